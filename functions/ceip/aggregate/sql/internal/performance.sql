-- performance: per product and metric, percentiles over machines, each machine weighted once by the
-- median of all its samples of the day (machine_medians.sql). quantile_cont interpolates linearly
-- between the two closest ranks.
SELECT
    product_id,
    metric,
    count(*) AS machines,
    quantile_cont(machine_median, 0.5) AS p50,
    quantile_cont(machine_median, 0.9) AS p90,
    quantile_cont(machine_median, 0.99) AS p99
FROM machine_medians
GROUP BY product_id, metric
ORDER BY product_id, metric
