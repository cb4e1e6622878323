-- features: uses (sum of counts), distinct machines, prevalence among the product's active machines.
SELECT
    t.product_id,
    t.feature_id,
    t.uses,
    t.machines,
    CAST(t.machines AS DOUBLE) / a.machines AS prevalence
FROM feature_totals AS t
INNER JOIN active AS a ON a.product_id = t.product_id
ORDER BY t.product_id, t.feature_id
