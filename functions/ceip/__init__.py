"""ceip: Customer Experience Improvement Program endpoint (ingest, prevalence tables, privacy)."""
