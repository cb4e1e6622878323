-- machine_days: one row per product and machine active that day, holding what the tables need from
-- that machine's day:
--   machine_key           the machine's keyed hash (machine_sketch_keys.sql): what the HLL sketches
--                         count; never published
--   reports               its reports
--   configuration         the configuration of its latest report that carries one
--   help_center_opens     the sum over its reports (the count is "since the previous report")
--   desktop_folder_count  from its latest report that states it (a state, not a count)
-- "Latest" is by created_at, then received_at and report_id, so ties resolve the same way every run.
WITH days AS (
    SELECT
        product_id,
        machine_id,
        count(*) AS reports,
        max_by(configuration, ROW(created_at, received_at, report_id))
            FILTER (WHERE configuration IS NOT NULL) AS configuration,
        CAST(sum(usage.help_center_opens) AS BIGINT) AS help_center_opens,
        max_by(usage.desktop_folder_count, ROW(created_at, received_at, report_id))
            FILTER (WHERE usage.desktop_folder_count IS NOT NULL) AS desktop_folder_count
    FROM reports
    GROUP BY product_id, machine_id
)
SELECT days.*, keys.machine_key
FROM days
JOIN machine_sketch_keys AS keys USING (machine_id)
