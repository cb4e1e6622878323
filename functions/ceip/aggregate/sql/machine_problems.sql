-- machine_problems: hits per product, problem and machine. An entry with count 0 is not a hit.
WITH entries AS (
    SELECT product_id, machine_id, unnest(performance.problems) AS p
    FROM reports
)
SELECT
    product_id,
    p.id AS problem_id,
    p.kind AS kind,
    machine_id,
    sum(p.count) AS hits
FROM entries
WHERE p.count > 0
GROUP BY product_id, p.id, p.kind, machine_id
