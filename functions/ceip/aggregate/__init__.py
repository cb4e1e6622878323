"""AggregateFunction: a day of raw reports in, prevalence tables (internal and partner) out."""
