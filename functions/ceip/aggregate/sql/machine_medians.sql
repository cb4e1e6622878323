-- machine_medians: per product, metric and machine, the median of the machine's samples of the day
-- (quantile_cont: linear interpolation between the two closest ranks); internal/performance.sql takes
-- percentiles over them, the partner release a histogram of them. One row per machine and metric.
-- The three sample lists of a report are unnested side by side (the shorter ones padded with NULLs,
-- which quantile_cont skips), so one aggregation over product and machine computes all three medians:
-- cheaper than one aggregation per metric, and than one keyed by metric. A machine without samples of
-- a metric has a NULL median there and is not counted for it.
WITH samples AS (
    SELECT
        product_id,
        machine_id,
        unnest(performance.ui_response_ms) AS ui_response_ms,
        unnest(performance.network_kbps.send) AS network_send_kbps,
        unnest(performance.network_kbps.receive) AS network_receive_kbps
    FROM reports
),
per_machine AS (
    SELECT
        product_id,
        machine_id,
        quantile_cont(ui_response_ms, 0.5) AS ui_response_ms,
        quantile_cont(network_send_kbps, 0.5) AS network_send_kbps,
        quantile_cont(network_receive_kbps, 0.5) AS network_receive_kbps
    FROM samples
    GROUP BY product_id, machine_id
)
SELECT product_id, 'ui_response_ms' AS metric, ui_response_ms AS machine_median
FROM per_machine
WHERE ui_response_ms IS NOT NULL
UNION ALL
SELECT product_id, 'network_send_kbps', network_send_kbps
FROM per_machine
WHERE network_send_kbps IS NOT NULL
UNION ALL
SELECT product_id, 'network_receive_kbps', network_receive_kbps
FROM per_machine
WHERE network_receive_kbps IS NOT NULL
