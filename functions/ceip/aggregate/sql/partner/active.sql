-- partner active: products with at least ${min_machines} active machines.
SELECT product_id, machines, reports
FROM active
WHERE machines >= ${min_machines}
ORDER BY product_id
