"""Powertools resolver glue: JSON and problem responses, and the fallbacks every API handler installs."""

from __future__ import annotations

import json
import traceback
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from ceip.api import problems
from ceip.api.problems import Problem, ProblemError
from ceip.api.routes import PUBLIC_ROUTES, RouteSpec, allowed_methods
from ceip.runtime.observability import Observability, count_by_reason


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, separators=(",", ":")),
        headers=headers or {},
    )


def problem_response(problem: Problem) -> Response[str]:
    return Response(
        status_code=problem.kind.status,
        content_type=problems.PROBLEM_CONTENT_TYPE,
        body=problem.json(),
        headers=problem.headers,
    )


def error_location(error: BaseException) -> str:
    """Where an unexpected error was raised (file:line), without its message, which may quote input."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


def install_fallbacks(
    app: APIGatewayHttpResolver, routes: tuple[RouteSpec, ...], logger: Logger, service: str
) -> None:
    """Problem answers for unknown routes (404), known routes with another method (405) and crashes
    (500); every problem answer is logged by code and counted as RequestsRejected{reason=code}."""

    def answer(problem: Problem) -> Response[str]:
        logger.info("request_rejected", code=problem.kind.code, status=problem.kind.status)
        count_by_reason("RequestsRejected", {problem.kind.code: 1}, service)
        return problem_response(problem)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        methods = allowed_methods(routes, app.current_event.path)
        if methods:
            allow = ", ".join(sorted(methods))
            return answer(Problem(problems.METHOD_NOT_ALLOWED, headers={"Allow": allow}))
        return answer(Problem(problems.NOT_FOUND))

    @app.exception_handler(ProblemError)  # type: ignore[untyped-decorator]
    def _problem(error: ProblemError) -> Response[str]:
        return answer(error.problem)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(error: Exception) -> Response[str]:
        # The message and locals may quote the request; log the type and place only.
        logger.error("unexpected_error", error_type=type(error).__name__, where=error_location(error))
        return answer(Problem(problems.INTERNAL_ERROR))


def public_resolver(observability: Observability) -> APIGatewayHttpResolver:
    """The resolver of a public HTTP function, with the fallbacks installed for every public route."""
    app = APIGatewayHttpResolver()
    install_fallbacks(app, PUBLIC_ROUTES, observability.logger, observability.service)
    return app
