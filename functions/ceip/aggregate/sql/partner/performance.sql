-- partner performance: percentiles over fewer than ${min_machines} machines are left out.
SELECT product_id, metric, machines, p50, p90, p99
FROM performance
WHERE machines >= ${min_machines}
ORDER BY product_id, metric
