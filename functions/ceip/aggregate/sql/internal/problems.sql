-- problems: hits (sum of counts), distinct machines, and how concentrated the hits are.
-- prevalence = machines / active machines of the product that day.
-- top_machine_share = the largest single machine's hits / all hits.
SELECT
    m.product_id,
    m.problem_id,
    m.kind,
    sum(m.hits) AS hits,
    count(*) AS machines,
    CAST(count(*) AS DOUBLE) / max(a.machines) AS prevalence,
    CAST(sum(m.hits) AS DOUBLE) / count(*) AS hits_per_machine,
    CAST(max(m.hits) AS DOUBLE) / sum(m.hits) AS top_machine_share
FROM machine_problems AS m
INNER JOIN active AS a ON a.product_id = m.product_id
GROUP BY m.product_id, m.problem_id, m.kind
ORDER BY m.product_id, m.problem_id, m.kind
