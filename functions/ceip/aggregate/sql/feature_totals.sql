-- feature_totals: per product and feature, the day's uses and distinct machines, with the machine keys
-- that go into the feature's HLL sketch (machine_key: see machine_sketch_keys.sql). An entry with count 0 is
-- not a use. Uses are first summed per machine, then per feature: one pass for the table and the sketch.
-- Bounds (bounds.py), as in problem_totals.sql:
--   per machine   at most ${max_features} distinct features over all its products, the most used first
--                 (ties by product and id), each clipped to ${max_uses} uses
--   per product   at most ${max_feature_ids} ids, the most machines first (ties by id); the rest are
--                 folded into '(other)', where a machine counts once
-- folded_ids: how many of the day's ids the row stands for (1, or those folded into '(other)').
-- As in problem_totals.sql, only machines with more than ${max_features} entries in all their reports
-- are ranked, and only the ids beyond the cap are grouped again.
WITH ranked_machines AS (
    SELECT machine_id
    FROM reports
    GROUP BY machine_id
    HAVING sum(len(usage.features)) > ${max_features}
),
unranked AS (
    SELECT product_id, f.id AS feature_id, machine_id, least(sum(f.count), ${max_uses}) AS uses
    FROM (
        SELECT product_id, machine_id, unnest(usage.features) AS f
        FROM reports
        ANTI JOIN ranked_machines USING (machine_id)
    )
    WHERE f.count > 0
    GROUP BY product_id, f.id, machine_id
),
ranked AS (
    SELECT product_id, f.id AS feature_id, machine_id, least(sum(f.count), ${max_uses}) AS uses
    FROM (
        SELECT product_id, machine_id, unnest(usage.features) AS f
        FROM reports
        SEMI JOIN ranked_machines USING (machine_id)
    )
    WHERE f.count > 0
    GROUP BY product_id, f.id, machine_id
    QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY sum(f.count) DESC, product_id, f.id)
        <= ${max_features}
),
per_machine AS (
    SELECT * FROM unranked
    UNION ALL
    SELECT * FROM ranked
),
ids AS (
    SELECT
        product_id,
        feature_id,
        row_number() OVER (PARTITION BY product_id ORDER BY count(*) DESC, feature_id)
            <= ${max_feature_ids} AS kept
    FROM per_machine
    GROUP BY product_id, feature_id
),
folded AS (
    SELECT m.product_id, m.feature_id, m.machine_id, CAST(m.uses AS BIGINT) AS uses
    FROM per_machine AS m
    SEMI JOIN (SELECT * FROM ids WHERE kept) AS i USING (product_id, feature_id)
    UNION ALL
    SELECT m.product_id, '(other)', m.machine_id, CAST(sum(m.uses) AS BIGINT)
    FROM per_machine AS m
    SEMI JOIN (SELECT * FROM ids WHERE NOT kept) AS i USING (product_id, feature_id)
    GROUP BY m.product_id, m.machine_id
),
folded_ids AS (
    SELECT product_id, '(other)' AS feature_id, count(*) AS folded_ids
    FROM ids
    WHERE NOT kept
    GROUP BY product_id
)
SELECT
    f.product_id,
    f.feature_id,
    CAST(sum(f.uses) AS BIGINT) AS uses,
    count(*) AS machines,
    coalesce(any_value(o.folded_ids), 1) AS folded_ids,
    list(keys.machine_key) AS machine_keys
FROM folded AS f
JOIN machine_sketch_keys AS keys USING (machine_id)
LEFT JOIN folded_ids AS o USING (product_id, feature_id)
GROUP BY f.product_id, f.feature_id
