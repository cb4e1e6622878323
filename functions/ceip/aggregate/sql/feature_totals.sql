-- feature_totals: per product and feature, the day's uses and distinct machines, with the machine keys
-- that go into the feature's HLL sketch (machine_key: see machine_sketch_keys.sql). An entry with count 0 is
-- not a use. Uses are first summed per machine, then per feature: one pass for the table and the sketch.
WITH entries AS (
    SELECT product_id, machine_id, unnest(usage.features) AS f
    FROM reports
),
per_machine AS (
    SELECT
        product_id,
        f.id AS feature_id,
        machine_id,
        CAST(sum(f.count) AS BIGINT) AS uses
    FROM entries
    WHERE f.count > 0
    GROUP BY product_id, f.id, machine_id
)
SELECT
    product_id,
    feature_id,
    CAST(sum(uses) AS BIGINT) AS uses,
    count(*) AS machines,
    list(keys.machine_key) AS machine_keys
FROM per_machine
JOIN machine_sketch_keys AS keys USING (machine_id)
GROUP BY product_id, feature_id
