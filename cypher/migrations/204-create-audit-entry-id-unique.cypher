CREATE CONSTRAINT audit_entry_id_unique IF NOT EXISTS FOR (e:AuditEntry) REQUIRE e.id IS UNIQUE
