-- machine_features: uses per product, feature and machine. An entry with count 0 is not a use.
WITH entries AS (
    SELECT product_id, machine_id, unnest(usage.features) AS f
    FROM reports
)
SELECT
    product_id,
    f.id AS feature_id,
    machine_id,
    sum(f.count) AS uses
FROM entries
WHERE f.count > 0
GROUP BY product_id, f.id, machine_id
