-- partner configuration: values held by less than ${fold_share} of the machines that state the
-- dimension are folded into 'other' first; then cells below ${min_machines} machines are suppressed.
-- The shares reveal each group's total, so one suppressed cell could be recovered as the total minus
-- the published ones: the smallest further cells are suppressed too, until the suppressed cells of a
-- group are at least two and hold at least ${min_machines} machines together (or the whole group goes).
WITH folded AS (
    SELECT
        product_id,
        dimension,
        CASE WHEN share < ${fold_share} THEN 'other' ELSE value END AS value,
        CAST(sum(machines) AS BIGINT) AS machines
    FROM configuration
    GROUP BY product_id, dimension, CASE WHEN share < ${fold_share} THEN 'other' ELSE value END
),
ranked AS (
    SELECT
        product_id,
        dimension,
        value,
        machines,
        CAST(machines AS DOUBLE) / sum(machines) OVER (PARTITION BY product_id, dimension) AS share,
        row_number() OVER (PARTITION BY product_id, dimension ORDER BY machines, value) AS smallest_first,
        sum(machines) OVER (
            PARTITION BY product_id, dimension ORDER BY machines, value ROWS UNBOUNDED PRECEDING
        ) AS cumulative,
        sum(CASE WHEN machines < ${min_machines} THEN 1 ELSE 0 END)
            OVER (PARTITION BY product_id, dimension) AS below_threshold
    FROM folded
),
cut AS (
    SELECT product_id, dimension, min(smallest_first) AS suppressed_through
    FROM ranked
    WHERE below_threshold > 0
      AND smallest_first >= below_threshold
      AND smallest_first >= 2
      AND cumulative >= ${min_machines}
    GROUP BY product_id, dimension
)
SELECT r.product_id, r.dimension, r.value, r.machines, r.share
FROM ranked AS r
LEFT JOIN cut AS c ON c.product_id = r.product_id AND c.dimension = r.dimension
WHERE r.below_threshold = 0 OR r.smallest_first > c.suppressed_through
ORDER BY r.product_id, r.dimension, r.value
