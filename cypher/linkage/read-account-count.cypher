// How many accounts a run will read (from the count store: instant), for progress.
MATCH (a:Account)
RETURN count(a) AS accounts
