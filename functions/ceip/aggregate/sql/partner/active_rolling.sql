-- partner rolling active: left out when the window's estimated machines are below ${min_machines}.
SELECT product_id, window_days, window_start, days_with_data, machines, reports
FROM active_rolling
WHERE machines >= ${min_machines}
ORDER BY window_days, product_id
