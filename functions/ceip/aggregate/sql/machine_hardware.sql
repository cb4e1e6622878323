-- machine_hardware: the hardware features of each machine's latest configuration (machine_configurations),
-- one row per name, at most ${max_hardware_features} per machine and product in name order (bounds.py).
-- Which names a product keeps (its cap) is decided in configuration.sql.
-- Each machine's (name, value) pairs are sorted and cut in a list, not ranked by a window over every
-- machine's names, nor walked with json_each (which copies the whole object into each of its rows: on
-- objects of 64 names of 128 characters, eight times the cost of the rest of the table).
SELECT product_id, hw[1] AS name, CAST(hw[2] AS VARCHAR) AS value
FROM (
    SELECT
        product_id,
        unnest(
            list_slice(
                list_sort(
                    list_zip(
                        json_keys(configuration.hardware_features),
                        json_extract(configuration.hardware_features, '$.*')
                    )
                ),
                1,
                ${max_hardware_features}
            )
        ) AS hw
    FROM machine_configurations
    WHERE json_type(configuration.hardware_features) = 'OBJECT'
)
