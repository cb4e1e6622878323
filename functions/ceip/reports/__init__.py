"""Report wire format v1: models, limits and the JSON Schema published from them."""
