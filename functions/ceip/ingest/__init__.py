"""IngestFunction: POST /v1/reports."""
