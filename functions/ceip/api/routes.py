"""The public HTTP routes: one table serves routing fallbacks (404 vs 405) and the docs."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RouteSpec:
    path: str
    """Path as the template and OpenAPI spell it, e.g. /v1/privacy/requests/{request_id}."""
    methods: frozenset[str]

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{[a-z_]+\}", "[^/]+", self.path) + "$")


def allowed_methods(routes: tuple[RouteSpec, ...], path: str) -> frozenset[str]:
    """Methods a path supports; empty when no route has that path."""
    return frozenset().union(*(r.methods for r in routes if r.pattern.match(path)))


PUBLIC_ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("/v1/reports", frozenset({"POST"})),
    RouteSpec("/v1/privacy/requests", frozenset({"POST"})),
    RouteSpec("/v1/privacy/requests/{request_id}", frozenset({"GET"})),
)
"""Every route of the HTTP API: any handler's 404/405 fallback answers for all of them."""
