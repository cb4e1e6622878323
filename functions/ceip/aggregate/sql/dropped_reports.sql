-- dropped_reports: the loaded lines that must not be counted, each with the first reason that applies:
--   corrupt            not a report: an unparseable line, or ids, product or timestamps missing or
--                      malformed (the loader reads a GUID that is not a UUID as NULL)
--   duplicate          a later copy of a report_id already read that day (a client retry); the first
--                      received copy is kept (copies of a retry are identical; the other keys only make
--                      the choice deterministic should a client ever reuse an id)
--   seen_previous_day  the report_id was stored in the last hours of the previous day (a retry across
--                      midnight, counted there)
-- row_id is DuckDB's rowid of the loaded table (docs/aggregates.md gives the Athena form).
WITH checked AS (
    SELECT
        rowid AS row_id,
        report_id,
        (
            report_id IS NOT NULL
            AND machine_id IS NOT NULL
            AND product_id IS NOT NULL
            AND created_at IS NOT NULL
            AND received_at IS NOT NULL
        ) AS usable
    FROM reports
),
repeated AS (
    SELECT report_id
    FROM checked
    WHERE usable
    GROUP BY report_id
    HAVING count(*) > 1
),
later_copies AS (
    SELECT row_id
    FROM (
        SELECT
            r.rowid AS row_id,
            row_number() OVER (
                PARTITION BY r.report_id
                ORDER BY r.received_at, r.machine_id, r.product_id, r.created_at
            ) AS copy_number
        FROM reports AS r
        INNER JOIN repeated AS d ON d.report_id = r.report_id
        INNER JOIN checked AS c ON c.row_id = r.rowid AND c.usable
    ) AS copies
    WHERE copy_number > 1
)
SELECT
    c.row_id,
    CASE
        WHEN NOT c.usable THEN 'corrupt'
        WHEN l.row_id IS NOT NULL THEN 'duplicate'
        ELSE 'seen_previous_day'
    END AS reason
FROM checked AS c
LEFT JOIN later_copies AS l ON l.row_id = c.row_id
LEFT JOIN (SELECT DISTINCT report_id FROM previous_report_ids) AS p ON p.report_id = c.report_id
WHERE NOT c.usable OR l.row_id IS NOT NULL OR p.report_id IS NOT NULL
