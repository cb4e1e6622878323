"""What every function shares at run time, below every other package: observability and settings."""
