-- machine_hardware: the hardware features of each machine's latest configuration (machine_configurations),
-- one row per name, at most ${max_hardware_features} per machine and product in name order (bounds.py).
-- Which names a product keeps (its cap) is decided in configuration.sql.
SELECT c.product_id, hw.key AS name, CAST(hw.value AS VARCHAR) AS value
FROM machine_configurations AS c, json_each(c.configuration.hardware_features) AS hw
QUALIFY row_number() OVER (PARTITION BY c.product_id, c.machine_id ORDER BY hw.key) <= ${max_hardware_features}
