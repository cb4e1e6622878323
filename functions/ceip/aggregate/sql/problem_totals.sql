-- problem_totals: per product, problem and kind, the day's hits, distinct machines and the largest
-- single machine's hits, with the machine keys that go into the problem's HLL sketch (machine_key:
-- see machine_sketch_keys.sql). An entry with count 0 is not a hit. Hits are first summed per machine (a
-- machine reports a problem in several reports), then per problem: one pass for the table and the sketch.
-- Sums are cast to BIGINT: DuckDB sums integers as HUGEINT, which Parquet would store as DOUBLE.
-- Bounds (bounds.py), before anything is counted:
--   per machine   at most ${max_problems} distinct (problem, kind) over all its products, the most hit
--                 first (ties by product, id, kind), each clipped to ${max_hits} hits
--   per product   at most ${max_problem_ids} ids, the most machines first (ties by id, kind); the rest
--                 are folded into '(other)' of their kind, where a machine counts once
-- folded_ids: how many of the day's ids the row stands for (1, or those folded into '(other)').
-- Only machines that may be over the bound are ranked: those with more than ${max_problems} entries in
-- all their reports (fewer entries cannot make more distinct problems). Only the ids beyond the cap are
-- grouped again. On a normal day both are a small part of the rows.
WITH ranked_machines AS (
    SELECT machine_id
    FROM reports
    GROUP BY machine_id
    HAVING sum(len(performance.problems)) > ${max_problems}
),
unranked AS (
    SELECT product_id, p.id AS problem_id, p.kind AS kind, machine_id, least(sum(p.count), ${max_hits}) AS hits
    FROM (
        SELECT product_id, machine_id, unnest(performance.problems) AS p
        FROM reports
        ANTI JOIN ranked_machines USING (machine_id)
    )
    WHERE p.count > 0
    GROUP BY product_id, p.id, p.kind, machine_id
),
ranked AS (
    SELECT product_id, p.id AS problem_id, p.kind AS kind, machine_id, least(sum(p.count), ${max_hits}) AS hits
    FROM (
        SELECT product_id, machine_id, unnest(performance.problems) AS p
        FROM reports
        SEMI JOIN ranked_machines USING (machine_id)
    )
    WHERE p.count > 0
    GROUP BY product_id, p.id, p.kind, machine_id
    QUALIFY row_number() OVER (
        PARTITION BY machine_id ORDER BY sum(p.count) DESC, product_id, p.id, p.kind
    ) <= ${max_problems}
),
per_machine AS (
    SELECT * FROM unranked
    UNION ALL
    SELECT * FROM ranked
),
ids AS (
    SELECT
        product_id,
        problem_id,
        kind,
        row_number() OVER (PARTITION BY product_id ORDER BY count(*) DESC, problem_id, kind)
            <= ${max_problem_ids} AS kept
    FROM per_machine
    GROUP BY product_id, problem_id, kind
),
folded AS (
    SELECT m.product_id, m.problem_id, m.kind, m.machine_id, CAST(m.hits AS BIGINT) AS hits
    FROM per_machine AS m
    SEMI JOIN (SELECT * FROM ids WHERE kept) AS i USING (product_id, problem_id, kind)
    UNION ALL
    SELECT m.product_id, '(other)', m.kind, m.machine_id, CAST(sum(m.hits) AS BIGINT)
    FROM per_machine AS m
    SEMI JOIN (SELECT * FROM ids WHERE NOT kept) AS i USING (product_id, problem_id, kind)
    GROUP BY m.product_id, m.kind, m.machine_id
),
folded_ids AS (
    SELECT product_id, '(other)' AS problem_id, kind, count(*) AS folded_ids
    FROM ids
    WHERE NOT kept
    GROUP BY product_id, kind
)
SELECT
    f.product_id,
    f.problem_id,
    f.kind,
    CAST(sum(f.hits) AS BIGINT) AS hits,
    count(*) AS machines,
    max(f.hits) AS top_machine_hits,
    coalesce(any_value(o.folded_ids), 1) AS folded_ids,
    list(keys.machine_key) AS machine_keys
FROM folded AS f
JOIN machine_sketch_keys AS keys USING (machine_id)
LEFT JOIN folded_ids AS o USING (product_id, problem_id, kind)
GROUP BY f.product_id, f.problem_id, f.kind
