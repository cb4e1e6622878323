-- over_bounds: the reports a machine sent beyond its daily contribution bounds (bounds.py), each with
-- the reason:
--   over_products  the machine reported for more than ${max_products} products: it counts toward the
--                  ones with the most reports (ties by product id), its reports for the others go
--   over_reports   beyond the first ${max_reports} reports of a machine and product, by created_at
--                  (then received_at and report_id, so ties resolve the same way every run)
-- Only machines over a bound are ranked: a normal day costs one grouping of the reports.
WITH per_product AS (
    SELECT machine_id, product_id, count(*) AS reports
    FROM reports
    GROUP BY machine_id, product_id
),
over AS (
    SELECT machine_id
    FROM per_product
    GROUP BY machine_id
    HAVING count(*) > ${max_products} OR max(reports) > ${max_reports}
),
kept_products AS (
    SELECT machine_id, product_id
    FROM per_product
    SEMI JOIN over USING (machine_id)
    QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY reports DESC, product_id) <= ${max_products}
),
ranked AS (
    SELECT
        r.rowid AS row_id,
        r.machine_id,
        r.product_id,
        row_number() OVER (
            PARTITION BY r.machine_id, r.product_id ORDER BY r.created_at, r.received_at, r.report_id
        ) AS report_number
    FROM reports AS r
    SEMI JOIN over USING (machine_id)
)
SELECT
    r.row_id,
    CASE WHEN k.machine_id IS NULL THEN 'over_products' ELSE 'over_reports' END AS reason
FROM ranked AS r
LEFT JOIN kept_products AS k ON k.machine_id = r.machine_id AND k.product_id = r.product_id
WHERE k.machine_id IS NULL OR r.report_number > ${max_reports}
