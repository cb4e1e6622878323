"""AggregateFunction handler: the EventBridge Scheduler input in, one day of tables out.

The schedule's Input is a JSON object: {"scheduled_time": "<aws.scheduler.scheduled-time>"} from the
template (the day before the scheduled time), {} (the day before now) or {"date": "YYYY-MM-DD"}.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ceip.aggregate import dates, service
from ceip.aggregate.settings import aggregate_settings
from ceip.aggregate.wiring import build_aggregation
from ceip.runtime.clock import utc_now
from ceip.runtime.observability import observe

SERVICE = "ceip-aggregate"
observability = observe(SERVICE)
logger = observability.logger


class AggregateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    day: date | None = Field(default=None, alias="date")
    scheduled_time: AwareDatetime | None = None
    new_partner_release: bool = Field(
        default=False, description="Draw the day's partner release anew (charged to the privacy budget)."
    )


class InvalidRequest(ValueError):
    """The event is not an aggregation request; its content is deliberately not repeated."""


def record(result: service.DayResult) -> None:
    counts = result.manifest.input
    for name, value in (
        ("ReportsAggregated", counts.reports_aggregated),
        ("DuplicateReportsDropped", counts.duplicates_dropped),
        ("CorruptLinesSkipped", counts.corrupt_lines_skipped),
        ("CorruptObjectsSkipped", counts.objects_corrupt),
        ("SuppressedReportsDropped", counts.suppressed_reports_dropped),
        (
            "ReportsOverBoundsDropped",
            counts.over_product_cap_reports_dropped
            + counts.over_products_reports_dropped
            + counts.over_reports_dropped,
        ),
        ("IdsFolded", sum(result.manifest.folded.model_dump().values())),
    ):
        observability.count(name, value)
    logger.info(
        "day_aggregated",
        dt=result.manifest.dt.isoformat(),
        objects=counts.objects_read,
        reports=counts.reports_aggregated,
        machines=counts.machines,
        duplicates=counts.duplicates_dropped,
        corrupt_lines=counts.corrupt_lines_skipped,
        corrupt_objects=counts.objects_corrupt,
        stale_files_deleted=result.manifest.stale_files_deleted,
        rows=result.manifest.rows,
        partner_release=result.manifest.partner_release.drawings,
        partner_republished=result.manifest.partner_release.republished,
    )


@observability.handler()
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    try:
        request = AggregateRequest.model_validate(event)
    except ValidationError as error:
        logger.error("invalid_request", errors=error.error_count())
        observability.count("InvalidRequests")
        raise InvalidRequest('expected {} or {"date": "YYYY-MM-DD", "new_partner_release": false}') from None
    day = dates.requested_day(request.day, request.scheduled_time, utc_now())
    settings = aggregate_settings()
    result = build_aggregation(settings).run(day, new_partner_release=request.new_partner_release)
    record(result)
    return {
        "dt": day.isoformat(),
        "manifest": f"s3://{settings.aggregates_bucket}/{result.manifest_key}",
        "reports": result.manifest.input.reports_aggregated,
        "rows": result.manifest.rows,
    }
