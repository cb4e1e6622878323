-- active: machines that sent at least one report for the product that day, and their reports.
SELECT
    product_id,
    count(*) AS machines,
    CAST(sum(reports) AS BIGINT) AS reports
FROM machine_days
GROUP BY product_id
ORDER BY product_id
