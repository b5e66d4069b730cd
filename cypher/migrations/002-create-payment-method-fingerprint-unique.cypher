CREATE CONSTRAINT payment_method_fingerprint_unique IF NOT EXISTS FOR (n:PaymentMethod) REQUIRE n.fingerprint IS UNIQUE
