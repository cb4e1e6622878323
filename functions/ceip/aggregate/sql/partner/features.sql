-- partner features: a feature used on fewer than ${min_machines} machines is left out.
SELECT product_id, feature_id, uses, machines, prevalence
FROM features
WHERE machines >= ${min_machines}
ORDER BY product_id, feature_id
