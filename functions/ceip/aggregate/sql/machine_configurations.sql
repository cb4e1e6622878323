-- machine_configurations: each machine's latest configuration (from machine_days), typed, except
-- hardware_features: it stays JSON text and machine_hardware.sql reads its names and values, because
-- turning 100,000 small objects into MAPs costs DuckDB more than the whole rest of this table.
-- (Athena: CAST(json_parse(configuration) AS ROW(...)), the hardware map as MAP(VARCHAR, BOOLEAN).)
SELECT
    product_id,
    machine_id,
    json_transform(
        configuration,
        '{"processor_count": "BIGINT", "network_connection_count": "BIGINT",
          "os": {"family": "VARCHAR", "version": "VARCHAR"}, "hardware_features": "JSON"}'
    ) AS configuration
FROM machine_days
WHERE configuration IS NOT NULL
