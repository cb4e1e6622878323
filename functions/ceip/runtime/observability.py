"""Logger, Metrics and Tracer of one function, built in one place.

Every function logs with Powertools' Logger, `log_event=False` (events carry the source address),
emits EMF into one namespace, and traces without capturing responses or errors (payloads). Handlers
take their three objects from `observe(SERVICE)` and decorate with `handler(...)`, so no handler can
turn event logging on by forgetting a flag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "ceip"
"""The one EMF namespace of every function's metrics."""

Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass(frozen=True)
class Observability:
    service: str
    logger: Logger
    metrics: Metrics
    tracer: Tracer

    def handler(self, correlation_id_path: str | None = None) -> Callable[[Handler], Handler]:
        """The decorators every Lambda entry point wears, in the order Powertools expects."""

        def decorate(function: Handler) -> Handler:
            traced = self.tracer.capture_lambda_handler(capture_response=False, capture_error=False)(
                self.metrics.log_metrics(function)
            )
            logged: Handler = self.logger.inject_lambda_context(
                log_event=False, correlation_id_path=correlation_id_path, clear_state=True
            )(traced)
            return logged

        return decorate

    def count(self, name: str, value: int = 1) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def observe(service: str) -> Observability:
    """The function's Logger, Metrics and Tracer, named after its service (ceip-<function>)."""
    return Observability(
        service=service,
        logger=Logger(service=service),
        metrics=Metrics(namespace=NAMESPACE, service=service),
        tracer=Tracer(service=service),
    )


def count_by_reason(metric: str, reason_counts: dict[str, int], service: str) -> None:
    """One EMF record per reason, each with the dimensions service and reason (our own fixed codes,
    never client input)."""
    for reason, count in sorted(reason_counts.items()):
        with single_metric(name=metric, unit=MetricUnit.Count, value=count, namespace=NAMESPACE) as record:
            record.add_dimension(name="service", value=service)
            record.add_dimension(name="reason", value=reason)
