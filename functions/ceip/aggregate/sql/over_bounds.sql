-- over_bounds: the reports beyond the day's product cap and a machine's daily contribution bounds
-- (bounds.py), each with the reason:
--   over_product_cap  the product is not among the day's ${max_day_products} products with the most
--                     machines (ties by product id), and it has no data dictionary (declared_ids):
--                     product ids come from clients, and every product has caps of its own
--   over_products     the machine reported for more than ${max_products} of the day's products: it counts
--                     toward the ones with the most reports (ties by product id), its reports for the
--                     others go
--   over_reports      beyond the first ${max_reports} reports of a machine and product, by created_at
--                     (then received_at and report_id, so ties resolve the same way every run)
-- Only machines over a bound are ranked: a normal day costs one grouping of the reports and one of the
-- products.
WITH per_product AS (
    SELECT machine_id, product_id, count(*) AS reports
    FROM reports
    GROUP BY machine_id, product_id
),
capped_products AS (
    SELECT p.product_id
    FROM (SELECT product_id, count(*) AS machines FROM per_product GROUP BY product_id) AS p
    LEFT JOIN declared_ids AS d ON d.scope = 'product' AND d.product_id = p.product_id
    WHERE d.product_id IS NULL
    QUALIFY row_number() OVER (ORDER BY p.machines DESC, p.product_id) > ${max_day_products}
),
counted AS (
    SELECT *
    FROM per_product
    ANTI JOIN capped_products USING (product_id)
),
over AS (
    SELECT machine_id
    FROM counted
    GROUP BY machine_id
    HAVING count(*) > ${max_products} OR max(reports) > ${max_reports}
),
kept_products AS (
    SELECT machine_id, product_id
    FROM counted
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
    ANTI JOIN capped_products USING (product_id)
)
SELECT r.rowid AS row_id, r.product_id, 'over_product_cap' AS reason
FROM reports AS r
SEMI JOIN capped_products USING (product_id)
UNION ALL
SELECT
    r.row_id,
    r.product_id,
    CASE WHEN k.machine_id IS NULL THEN 'over_products' ELSE 'over_reports' END
FROM ranked AS r
LEFT JOIN kept_products AS k ON k.machine_id = r.machine_id AND k.product_id = r.product_id
WHERE k.machine_id IS NULL OR r.report_number > ${max_reports}
