-- configuration: per product, dimension and value, the machines whose latest configuration of the day
-- has that value (machine_configurations: machine_days' configurations, typed).
-- share = machines / machines of the product whose latest configuration states the dimension.
-- Hardware features (machine_hardware: bounded per machine): a product keeps its ${max_hardware_names}
-- names with the most machines (ties by name); the others are dropped, not folded (a dimension made
-- of unrelated names would mean nothing), and counted in the manifest.
WITH hardware_names AS (
    SELECT product_id, name
    FROM machine_hardware
    GROUP BY product_id, name
    QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY count(*) DESC, name) <= ${max_hardware_names}
),
facts AS (
    SELECT product_id, 'processor_count' AS dimension, CAST(configuration.processor_count AS VARCHAR) AS value
    FROM machine_configurations
    WHERE configuration.processor_count IS NOT NULL
    UNION ALL
    SELECT product_id, 'network_connection_count', CAST(configuration.network_connection_count AS VARCHAR)
    FROM machine_configurations
    WHERE configuration.network_connection_count IS NOT NULL
    UNION ALL
    SELECT product_id, 'os_family', configuration.os.family
    FROM machine_configurations
    WHERE configuration.os.family IS NOT NULL
    UNION ALL
    SELECT product_id, 'os_version', configuration.os.version
    FROM machine_configurations
    WHERE configuration.os.version IS NOT NULL
    UNION ALL
    SELECT product_id, 'hardware_features.' || name, value
    FROM machine_hardware
    SEMI JOIN hardware_names USING (product_id, name)
)
SELECT
    product_id,
    dimension,
    value,
    count(*) AS machines,
    CAST(count(*) AS DOUBLE) / sum(count(*)) OVER (PARTITION BY product_id, dimension) AS share
FROM facts
GROUP BY product_id, dimension, value
ORDER BY product_id, dimension, value
