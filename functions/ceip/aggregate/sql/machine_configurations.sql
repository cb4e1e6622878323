-- machine_configurations: each machine's latest configuration (from machine_days), typed as read, but
-- hardware_features: it stays JSON text and machine_hardware.sql reads its names and values, because
-- turning 100,000 small objects into MAPs costs DuckDB more than the whole rest of this table.
-- (Athena: CAST(json_parse(configuration) AS ROW(...)), the hardware map as MAP(VARCHAR, BOOLEAN).)
SELECT product_id, machine_id, configuration
FROM machine_days
WHERE configuration IS NOT NULL
