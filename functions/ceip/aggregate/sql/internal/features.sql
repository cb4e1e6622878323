-- features: uses (sum of counts), distinct machines, prevalence among the product's active machines.
SELECT
    m.product_id,
    m.feature_id,
    sum(m.uses) AS uses,
    count(*) AS machines,
    CAST(count(*) AS DOUBLE) / max(a.machines) AS prevalence
FROM machine_features AS m
INNER JOIN active AS a ON a.product_id = m.product_id
GROUP BY m.product_id, m.feature_id
ORDER BY m.product_id, m.feature_id
