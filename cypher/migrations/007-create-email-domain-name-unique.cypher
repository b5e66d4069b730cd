CREATE CONSTRAINT email_domain_name_unique IF NOT EXISTS FOR (n:EmailDomain) REQUIRE n.name IS UNIQUE
