-- performance_bins: per product and metric, the machines whose median (machine_medians.sql) falls in
-- each bin: bin 0 holds medians below 1, bin b >= 1 those in [10^((b-1)/${bins_per_decade}),
-- 10^(b/${bins_per_decade})). The partner release reads percentiles off the noisy histogram.
SELECT
    product_id,
    metric,
    CAST(
        CASE
            WHEN machine_median < 1 THEN 0
            ELSE 1 + floor(log10(machine_median) * ${bins_per_decade})
        END AS INTEGER
    ) AS bin,
    count(*) AS machines
FROM machine_medians
GROUP BY ALL
