-- usage: per product and metric, machines per bucket and the median over machines; each machine
-- counts once with its day's value (see machine_days).
WITH machine_values AS (
    SELECT product_id, 'help_center_opens' AS metric, help_center_opens AS value
    FROM machine_days
    WHERE help_center_opens IS NOT NULL
    UNION ALL
    SELECT product_id, 'desktop_folder_count', desktop_folder_count
    FROM machine_days
    WHERE desktop_folder_count IS NOT NULL
),
buckets (bucket, bucket_min, bucket_max) AS (
    VALUES
        ('0', 0, 0), ('1', 1, 1), ('2-4', 2, 4), ('5-9', 5, 9), ('10-19', 10, 19),
        ('20-49', 20, 49), ('50-99', 50, 99), ('100+', 100, NULL)
),
medians AS (
    SELECT product_id, metric, quantile_cont(value, 0.5) AS median
    FROM machine_values
    GROUP BY product_id, metric
)
SELECT
    v.product_id,
    v.metric,
    b.bucket,
    b.bucket_min,
    b.bucket_max,
    count(*) AS machines,
    CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY v.product_id, v.metric) AS share,
    max(m.median) AS median
FROM machine_values AS v
INNER JOIN buckets AS b ON v.value >= b.bucket_min AND (b.bucket_max IS NULL OR v.value <= b.bucket_max)
INNER JOIN medians AS m ON m.product_id = v.product_id AND m.metric = v.metric
GROUP BY v.product_id, v.metric, b.bucket, b.bucket_min, b.bucket_max
ORDER BY v.product_id, v.metric, b.bucket_min
