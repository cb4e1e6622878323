-- partner usage: buckets below ${min_machines} machines are suppressed, with the same complementary
-- suppression as configuration (shares reveal the total); the median is published with the buckets
-- that remain, and only for groups of at least ${min_machines} machines.
WITH ranked AS (
    SELECT
        product_id,
        metric,
        bucket,
        bucket_min,
        bucket_max,
        machines,
        share,
        median,
        row_number() OVER (PARTITION BY product_id, metric ORDER BY machines, bucket_min) AS smallest_first,
        sum(machines) OVER (
            PARTITION BY product_id, metric ORDER BY machines, bucket_min ROWS UNBOUNDED PRECEDING
        ) AS cumulative,
        sum(CASE WHEN machines < ${min_machines} THEN 1 ELSE 0 END)
            OVER (PARTITION BY product_id, metric) AS below_threshold,
        sum(machines) OVER (PARTITION BY product_id, metric) AS group_machines
    FROM usage
),
cut AS (
    SELECT product_id, metric, min(smallest_first) AS suppressed_through
    FROM ranked
    WHERE below_threshold > 0
      AND smallest_first >= below_threshold
      AND smallest_first >= 2
      AND cumulative >= ${min_machines}
    GROUP BY product_id, metric
)
SELECT r.product_id, r.metric, r.bucket, r.bucket_min, r.bucket_max, r.machines, r.share, r.median
FROM ranked AS r
LEFT JOIN cut AS c ON c.product_id = r.product_id AND c.metric = r.metric
WHERE r.group_machines >= ${min_machines}
  AND (r.below_threshold = 0 OR r.smallest_first > c.suppressed_through)
ORDER BY r.product_id, r.metric, r.bucket_min
