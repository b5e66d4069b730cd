CREATE INDEX account_signup_at IF NOT EXISTS FOR (a:Account) ON (a.signupAt)
