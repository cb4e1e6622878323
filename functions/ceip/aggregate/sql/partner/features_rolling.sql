-- partner rolling features: left out when the window's estimated machines are below ${min_machines}.
SELECT product_id, feature_id, window_days, window_start, days_with_data, uses, machines, prevalence
FROM features_rolling
WHERE machines >= ${min_machines}
ORDER BY window_days, product_id, feature_id
