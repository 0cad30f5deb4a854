"""Errors as ``application/problem+json`` (RFC 9457), mapped from the core error tree here only.

Every failure of an ``/api/v1`` route ends in :func:`problem_response`: a core
:class:`~trace_core.errors.TraceError` keeps its ``code`` and details (``field``,
``allowed``, ``expected_version`` and ``current_version`` ...) as extension
members; Litestar's own refusals (a malformed body or parameter, an unknown
route, a method not allowed, a body too large) become problems of the same
shape, naming the field where Litestar names one. Nothing a client sends is
answered with a 500.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from trace_core.errors import (
    AuthenticationError,
    InsufficientScopeError,
    RateLimitedError,
    TraceError,
    VersionConflictError,
)
from trace_http.web.app import status_for
from trace_http.web.mcp_endpoint import ResourceServer, challenge
from trace_http.web.ratelimit import retry_after_header

__all__ = ["PROBLEM_JSON", "problem_response"]

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    428: "Precondition required",
    429: "Too many requests",
    503: "Service unavailable",
}

_HTTP_CODES = {
    400: "invalid_input",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
}


def _problem(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"urn:trace:problem:{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def _validation_field(exc: ValidationException) -> tuple[str | None, str]:
    """Return the field Litestar names in a validation error, and its message."""
    extra = exc.extra
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        first = extra[0]
        key = first.get("key")
        message = str(first.get("message") or exc.detail)
        return (str(key) if key else None), message
    return None, str(exc.detail)


def problem_response(
    exc: Exception, request: Request[Any, Any, Any], resource_server: ResourceServer
) -> Response[Any]:
    """Return the problem answer for any exception an API route raised."""
    headers = {"Cache-Control": "no-store"}
    path = request.url.path
    if isinstance(exc, TraceError):
        status = 412 if isinstance(exc, VersionConflictError) else status_for(exc)
        if isinstance(exc, AuthenticationError):
            headers["WWW-Authenticate"] = challenge(resource_server, path, error="invalid_token")
        elif isinstance(exc, InsufficientScopeError):
            headers["WWW-Authenticate"] = challenge(
                resource_server, path, error="insufficient_scope", scope=exc.required_scope
            )
        elif isinstance(exc, RateLimitedError):
            headers["Retry-After"] = retry_after_header(exc.retry_after)
        details = {k: v for k, v in exc.details.items() if k not in ("type", "title", "status")}
        body = _problem(status, exc.code, exc.message, **details)
        if status == 401 and "WWW-Authenticate" not in headers:
            headers["WWW-Authenticate"] = challenge(resource_server, path)
    elif isinstance(exc, ValidationException):
        field, message = _validation_field(exc)
        status = 400
        detail = f"{field}: {message}" if field else message
        body = _problem(status, "invalid_input", detail, **({"field": field} if field else {}))
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        code = _HTTP_CODES.get(status, "error")
        named = exc.extra.get("field") if isinstance(exc.extra, dict) else None
        body = _problem(status, code, str(exc.detail), **({"field": named} if named else {}))
        if exc.headers:
            headers.update(exc.headers)
    else:  # pragma: no cover - a bug: Litestar's handler logs it through after_exception
        status = 500
        body = _problem(500, "internal_error", "Internal server error")
    return Response(content=body, status_code=status, headers=headers, media_type=PROBLEM_JSON)
