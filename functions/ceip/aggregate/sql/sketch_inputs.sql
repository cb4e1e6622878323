-- sketch_inputs: per sketch key, the exact total and the machines to put in its HLL sketch.
-- A machine enters a sketch as its machine_key (a keyed hash of the GUID; see machine_sketch_keys.sql):
-- the same on every day and in any engine, and never the GUID or bits of it.
SELECT
    'problem' AS scope,
    product_id,
    problem_id AS item_id,
    kind AS item_kind,
    hits AS total,
    machine_keys
FROM problem_totals
UNION ALL
SELECT
    'feature',
    product_id,
    feature_id,
    '',
    uses,
    machine_keys
FROM feature_totals
UNION ALL
SELECT
    'active',
    product_id,
    '',
    '',
    CAST(sum(reports) AS BIGINT),
    list(machine_key)
FROM machine_days
GROUP BY product_id
