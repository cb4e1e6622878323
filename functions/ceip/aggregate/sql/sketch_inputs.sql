-- sketch_inputs: per sketch key, the exact total and the machines to put in its HLL sketch.
-- A machine enters a sketch as its GUID's first 60 bits read as an integer (machine_key): the same on
-- every day and in any engine, and never the GUID itself. (DuckDB: a UUID cast to UHUGEINT is the
-- GUID's 128-bit value; Athena: from_base(substr(replace(machine_id, '-', ''), 1, 15), 16).)
SELECT
    'problem' AS scope,
    product_id,
    problem_id AS item_id,
    kind AS item_kind,
    sum(hits) AS total,
    list(CAST(CAST(machine_id AS UHUGEINT) >> 68 AS BIGINT)) AS machine_keys
FROM machine_problems
GROUP BY product_id, problem_id, kind
UNION ALL
SELECT
    'feature',
    product_id,
    feature_id,
    '',
    sum(uses),
    list(CAST(CAST(machine_id AS UHUGEINT) >> 68 AS BIGINT))
FROM machine_features
GROUP BY product_id, feature_id
UNION ALL
SELECT
    'active',
    product_id,
    '',
    '',
    sum(reports),
    list(CAST(CAST(machine_id AS UHUGEINT) >> 68 AS BIGINT))
FROM machine_days
GROUP BY product_id
