-- problem_totals: per product, problem and kind, the day's hits, distinct machines and the largest
-- single machine's hits, with the machine keys that go into the problem's HLL sketch (machine_key:
-- see machine_sketch_keys.sql). An entry with count 0 is not a hit. Hits are first summed per machine (a
-- machine reports a problem in several reports), then per problem: one pass for the table and the sketch.
-- Sums are cast to BIGINT: DuckDB sums integers as HUGEINT, which Parquet would store as DOUBLE.
-- Bounds (bounds.py), before anything is counted:
--   per machine   at most ${max_problems} distinct (problem, kind) over all its products, the most hit
--                 first (ties by product, id, kind), each clipped to ${max_hits} hits; a report's entries
--                 past ${max_problems} are cut before (its most hit kept)
--   per product   at most ${max_problem_ids} ids, the most machines first (ties by id, kind), besides the
--                 ids the product's data dictionary declares (declared_ids: always kept); the rest
--                 are folded into '(other)' of their kind, where a machine counts once
-- folded_ids: how many of the day's ids the row stands for (1, or those folded into '(other)').
-- Only machines over the bound are ranked, and only folded rows are grouped again: a normal day pays
-- one grouping of the entries and one of the machines' rows, as before the bounds.
WITH entries AS (
    -- A report's entries past the machine's bound are cut first, the most hit kept (ties by id and
    -- kind): a report of 256 made-up ids costs what one of ${max_problems} does. Ingest stores no more
    -- (ceip.reports.minimization); this cut is for objects stored before it did.
    SELECT
        product_id,
        machine_id,
        unnest(
            CASE
                WHEN len(performance.problems) > ${max_problems} THEN list_transform(
                    list_slice(
                        list_sort(
                            list_transform(
                                performance.problems, lambda e: {'count': -e.count, 'id': e.id, 'kind': e.kind}
                            )
                        ),
                        1,
                        ${max_problems}
                    ),
                    lambda e: {'id': e.id, 'kind': e.kind, 'count': -e.count}
                )
                ELSE performance.problems
            END
        ) AS p
    FROM reports
),
summed AS (
    SELECT product_id, p.id AS problem_id, p.kind AS kind, machine_id, sum(p.count) AS total
    FROM entries
    WHERE p.count > 0
    GROUP BY product_id, p.id, p.kind, machine_id
),
over AS (
    SELECT machine_id
    FROM summed
    GROUP BY machine_id
    HAVING count(*) > ${max_problems}
),
per_machine AS (
    SELECT product_id, problem_id, kind, machine_id, CAST(least(total, ${max_hits}) AS BIGINT) AS hits
    FROM summed
    ANTI JOIN over USING (machine_id)
    UNION ALL
    SELECT product_id, problem_id, kind, machine_id, CAST(least(total, ${max_hits}) AS BIGINT)
    FROM summed
    SEMI JOIN over USING (machine_id)
    QUALIFY row_number() OVER (
        PARTITION BY machine_id ORDER BY total DESC, product_id, problem_id, kind
    ) <= ${max_problems}
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
        problem_id,
        kind,
        CAST(sum(hits) AS BIGINT) AS hits,
        count(*) AS machines,
        max(hits) AS top_machine_hits,
        list(machine_key) AS machine_keys
    FROM keyed
    GROUP BY product_id, problem_id, kind
),
ids AS (
    SELECT
        t.product_id,
        t.problem_id,
        t.kind,
        d.item_id IS NOT NULL OR row_number() OVER (
            PARTITION BY t.product_id, d.item_id IS NOT NULL ORDER BY t.machines DESC, t.problem_id, t.kind
        ) <= ${max_problem_ids} AS kept
    FROM totals AS t
    LEFT JOIN declared_ids AS d
        ON d.scope = 'problem'
        AND d.product_id = CAST(t.product_id AS VARCHAR)
        AND d.item_id = t.problem_id
        AND d.item_kind = t.kind
),
folded_machines AS (
    SELECT product_id, kind, machine_id, any_value(machine_key) AS machine_key, sum(hits) AS hits
    FROM keyed
    SEMI JOIN (SELECT product_id, problem_id, kind FROM ids WHERE NOT kept) AS f
        USING (product_id, problem_id, kind)
    GROUP BY product_id, kind, machine_id
)
SELECT t.product_id, t.problem_id, t.kind, t.hits, t.machines, t.top_machine_hits, 1 AS folded_ids, t.machine_keys
FROM totals AS t
SEMI JOIN (SELECT product_id, problem_id, kind FROM ids WHERE kept) AS k USING (product_id, problem_id, kind)
UNION ALL
SELECT
    f.product_id,
    '(other)',
    f.kind,
    CAST(sum(f.hits) AS BIGINT),
    count(*),
    max(f.hits),
    (
        SELECT count(*) FROM ids AS i WHERE NOT i.kept AND i.product_id = f.product_id AND i.kind = f.kind
    ),
    list(f.machine_key)
FROM folded_machines AS f
GROUP BY f.product_id, f.kind
