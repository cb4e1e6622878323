-- problem_totals: per product, problem and kind, the day's hits, distinct machines and the largest
-- single machine's hits, with the machine keys that go into the problem's HLL sketch (machine_key:
-- see machine_sketch_keys.sql). An entry with count 0 is not a hit. Hits are first summed per machine (a
-- machine reports a problem in several reports), then per problem: one pass for the table and the sketch.
-- Sums are cast to BIGINT: DuckDB sums integers as HUGEINT, which Parquet would store as DOUBLE.
WITH entries AS (
    SELECT product_id, machine_id, unnest(performance.problems) AS p
    FROM reports
),
per_machine AS (
    SELECT
        product_id,
        p.id AS problem_id,
        p.kind AS kind,
        machine_id,
        CAST(sum(p.count) AS BIGINT) AS hits
    FROM entries
    WHERE p.count > 0
    GROUP BY product_id, p.id, p.kind, machine_id
)
SELECT
    product_id,
    problem_id,
    kind,
    CAST(sum(hits) AS BIGINT) AS hits,
    count(*) AS machines,
    max(hits) AS top_machine_hits,
    list(keys.machine_key) AS machine_keys
FROM per_machine
JOIN machine_sketch_keys AS keys USING (machine_id)
GROUP BY product_id, problem_id, kind
