-- partner problems: a problem seen on fewer than ${min_machines} machines is left out. Rows are
-- independent (no published total is their sum), so leaving one out reveals nothing about it.
SELECT product_id, problem_id, kind, hits, machines, prevalence, hits_per_machine, top_machine_share
FROM problems
WHERE machines >= ${min_machines}
ORDER BY product_id, problem_id, kind
