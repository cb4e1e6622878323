"""What the benchmarks, the load test and the tests feed the code: synthetic reports (reports.py), the
Lambda events that carry them (lambda_events.py) and the in-memory ports the services run on
(ports.py). Dev-only: nothing under functions/ imports it, so it is not in the Lambda package."""
