-- performance: per product and metric, percentiles over machines, each machine weighted once by the
-- median of all its samples of the day. Both levels use quantile_cont (linear interpolation between
-- the two closest ranks). One aggregation per metric: cheaper than one keyed by metric.
WITH ui_response_ms AS (
    SELECT product_id, quantile_cont(sample, 0.5) AS machine_median
    FROM (SELECT product_id, machine_id, unnest(performance.ui_response_ms) AS sample FROM reports) AS s
    GROUP BY product_id, machine_id
),
network_send_kbps AS (
    SELECT product_id, quantile_cont(sample, 0.5) AS machine_median
    FROM (SELECT product_id, machine_id, unnest(performance.network_kbps.send) AS sample FROM reports) AS s
    GROUP BY product_id, machine_id
),
network_receive_kbps AS (
    SELECT product_id, quantile_cont(sample, 0.5) AS machine_median
    FROM (SELECT product_id, machine_id, unnest(performance.network_kbps.receive) AS sample FROM reports) AS s
    GROUP BY product_id, machine_id
),
machine_medians AS (
    SELECT product_id, 'ui_response_ms' AS metric, machine_median FROM ui_response_ms
    UNION ALL
    SELECT product_id, 'network_send_kbps', machine_median FROM network_send_kbps
    UNION ALL
    SELECT product_id, 'network_receive_kbps', machine_median FROM network_receive_kbps
)
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
