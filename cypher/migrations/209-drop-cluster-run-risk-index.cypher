DROP INDEX cluster_run_risk IF EXISTS
