CREATE INDEX verdict_at IF NOT EXISTS FOR (v:Verdict) ON (v.at)
