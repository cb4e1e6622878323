-- partner rolling problems: left out when the window's estimated machines are below ${min_machines}.
SELECT product_id, problem_id, kind, window_days, window_start, days_with_data, hits, machines, prevalence
FROM problems_rolling
WHERE machines >= ${min_machines}
ORDER BY window_days, product_id, problem_id, kind
