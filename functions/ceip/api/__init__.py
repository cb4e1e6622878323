"""HTTP concerns shared by the API-facing handlers: request bodies, problem responses, OpenAPI."""
