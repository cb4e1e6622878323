"""`make load`: the zero-loss load test against the local stack.

Concurrent clients post valid wire-format v1 batches to the local gateway, resending a share of them
as clients do (after abandoning a request they think timed out, or after an answer they did not
trust); then the day is aggregated through `ceip aggregate`. The run passes when the reports
answered 202, the distinct report ids in the stored objects and the reports the manifest aggregated
are the same number, no report id is counted twice, and no request got a 5xx.

Modules: traffic (batches and the repeat plan), clients (the senders), stack (own or running local
stack), audit (what storage and aggregation hold), run (the whole run and its verdict).
"""
