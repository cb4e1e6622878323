-- problems: hits (sum of counts), distinct machines, and how concentrated the hits are.
-- prevalence = machines / active machines of the product that day.
-- top_machine_share = the largest single machine's hits / all hits.
SELECT
    t.product_id,
    t.problem_id,
    t.kind,
    t.hits,
    t.machines,
    CAST(t.machines AS DOUBLE) / a.machines AS prevalence,
    CAST(t.hits AS DOUBLE) / t.machines AS hits_per_machine,
    CAST(t.top_machine_hits AS DOUBLE) / t.hits AS top_machine_share
FROM problem_totals AS t
INNER JOIN active AS a ON a.product_id = t.product_id
ORDER BY t.product_id, t.problem_id, t.kind
