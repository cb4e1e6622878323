"""Infrastructure outside the Lambdas: the local stack and template helpers."""
