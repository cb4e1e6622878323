-- feature_totals: per product and feature, the day's uses and distinct machines, with the machine keys
-- that go into the feature's HLL sketch (machine_key: see machine_sketch_keys.sql). An entry with count 0 is
-- not a use. Uses are first summed per machine, then per feature: one pass for the table and the sketch.
-- Bounds (bounds.py), as in problem_totals.sql:
--   per machine   at most ${max_features} distinct features over all its products, the most used first
--                 (ties by product and id), each clipped to ${max_uses} uses; a report's entries past
--                 ${max_features} are cut before (its most used kept)
--   per product   at most ${max_feature_ids} ids, the most machines first (ties by id), besides the ids
--                 the product's data dictionary declares (always kept); the rest are folded into
--                 '(other)', where a machine counts once
-- folded_ids: how many of the day's ids the row stands for (1, or those folded into '(other)').
-- Only machines over the bound are ranked, and only folded rows are grouped again (problem_totals.sql).
WITH entries AS (
    -- A report's entries past the machine's bound are cut first, the most used kept (ties by id), as
    -- in problem_totals.sql.
    SELECT
        product_id,
        machine_id,
        unnest(
            CASE
                WHEN len(usage.features) > ${max_features} THEN list_transform(
                    list_slice(
                        list_sort(list_transform(usage.features, lambda e: {'count': -e.count, 'id': e.id})),
                        1,
                        ${max_features}
                    ),
                    lambda e: {'id': e.id, 'count': -e.count}
                )
                ELSE usage.features
            END
        ) AS f
    FROM reports
),
summed AS (
    SELECT product_id, f.id AS feature_id, machine_id, sum(f.count) AS total
    FROM entries
    WHERE f.count > 0
    GROUP BY product_id, f.id, machine_id
),
over AS (
    SELECT machine_id
    FROM summed
    GROUP BY machine_id
    HAVING count(*) > ${max_features}
),
per_machine AS (
    SELECT product_id, feature_id, machine_id, CAST(least(total, ${max_uses}) AS BIGINT) AS uses
    FROM summed
    ANTI JOIN over USING (machine_id)
    UNION ALL
    SELECT product_id, feature_id, machine_id, CAST(least(total, ${max_uses}) AS BIGINT)
    FROM summed
    SEMI JOIN over USING (machine_id)
    QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY total DESC, product_id, feature_id)
        <= ${max_features}
),
-- Not materialized: the folded branch reads it again, and on a day without folded ids that read ends
-- at once (a semi join on an empty set), where materializing it copied every machine's row.
keyed AS NOT MATERIALIZED (
    SELECT m.*, keys.machine_key
    FROM per_machine AS m
    JOIN machine_sketch_keys AS keys USING (machine_id)
),
totals AS (
    SELECT
        product_id,
        feature_id,
        CAST(sum(uses) AS BIGINT) AS uses,
        count(*) AS machines,
        list(machine_key) AS machine_keys
    FROM keyed
    GROUP BY product_id, feature_id
),
ids AS (
    SELECT
        t.product_id,
        t.feature_id,
        d.item_id IS NOT NULL OR row_number() OVER (
            PARTITION BY t.product_id, d.item_id IS NOT NULL ORDER BY t.machines DESC, t.feature_id
        ) <= ${max_feature_ids} AS kept
    FROM totals AS t
    LEFT JOIN declared_ids AS d
        ON d.scope = 'feature'
        AND d.product_id = CAST(t.product_id AS VARCHAR)
        AND d.item_id = t.feature_id
),
folded_machines AS (
    SELECT product_id, machine_id, any_value(machine_key) AS machine_key, sum(uses) AS uses
    FROM keyed
    SEMI JOIN (SELECT product_id, feature_id FROM ids WHERE NOT kept) AS f USING (product_id, feature_id)
    GROUP BY product_id, machine_id
)
SELECT t.product_id, t.feature_id, t.uses, t.machines, 1 AS folded_ids, t.machine_keys
FROM totals AS t
SEMI JOIN (SELECT product_id, feature_id FROM ids WHERE kept) AS k USING (product_id, feature_id)
UNION ALL
SELECT
    f.product_id,
    '(other)',
    CAST(sum(f.uses) AS BIGINT),
    count(*),
    (SELECT count(*) FROM ids AS i WHERE NOT i.kept AND i.product_id = f.product_id),
    list(f.machine_key)
FROM folded_machines AS f
GROUP BY f.product_id
