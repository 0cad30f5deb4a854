"""The REST API at ``/api/v1``: Litestar controllers over the ``Trace`` facade.

One module per resource (:mod:`.streams`, :mod:`.entries` with search, tags,
versions and the trash, :mod:`.attachments`, :mod:`.account` with API keys and
export/import); what they share is in :mod:`._common` (error responses in the
schema, ETags, query decoding), :mod:`._types` (answers; bodies derived from
the MCP tools' arguments Structs), :mod:`._auth` (bearer or cookie + CSRF, the
rate limit) and :mod:`._problems` (the one mapping of errors to RFC 9457
problems). The OpenAPI 3.1 document is Litestar's, at ``/api/openapi.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ExceptionHandlersMap

from trace_core.errors import TraceError
from trace_core.model import Principal
from trace_http.web.api._auth import CSRF_HEADER, ApiAuth
from trace_http.web.api._problems import PROBLEM_JSON, problem_response
from trace_http.web.api._schema import ArgsSchemaPlugin
from trace_http.web.api.account import AccountController, KeysController
from trace_http.web.api.attachments import attachment_handlers
from trace_http.web.api.entries import EntriesController, SearchController, TrashController
from trace_http.web.api.streams import StreamsController
from trace_http.web.mcp_endpoint import ResourceServer
from trace_http.web.oauth._pages import Pages

if TYPE_CHECKING:
    from trace_http.runtime import Runtime

__all__ = [
    "API_PREFIX",
    "CSRF_HEADER",
    "PROBLEM_JSON",
    "ArgsSchemaPlugin",
    "api_openapi_config",
    "api_router",
    "unrouted_handlers",
]

API_PREFIX = "/api/v1"


def _constant(value: Any) -> Provide:
    def provide() -> Any:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)


def api_openapi_config() -> OpenAPIConfig:
    """Return the OpenAPI configuration: the document at ``/api/openapi.json``, no UI."""
    return OpenAPIConfig(
        title="Trace REST API",
        version="1",
        path="/api",
        render_plugins=[],
        create_examples=False,
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="An API key (trace_…) or an OAuth access token; "
                    "scope read or full.",
                )
            }
        ),
        security=[{"bearer": []}],
    )


def unrouted_handlers(
    resource_server: ResourceServer,
) -> ExceptionHandlersMap:
    """Return the app-level handlers that answer unknown ``/api/`` paths and methods as problems.

    A request no route matches never reaches the router's handlers; these see it
    at the app and answer under ``/api/`` as the API does, elsewhere as before.
    """

    def handle(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        if request.url.path.startswith("/api/"):
            return problem_response(exc, request, resource_server)
        return Response(
            content={"status_code": exc.status_code, "detail": exc.detail},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    return {NotFoundException: handle, MethodNotAllowedException: handle}


def api_router(runtime: Runtime, resource_server: ResourceServer) -> Router:
    """Return ``/api/v1`` wired to the runtime's facade, authenticator, limiter and sessions."""
    trace = runtime.trace
    pages = Pages(
        sessions=runtime.web_sessions,
        secret=runtime.session_secret,
        public_url=runtime.public_url,
    )
    auth = ApiAuth(
        authenticator=runtime.authenticator if runtime.test_principal is None else None,
        limiter=runtime.limiter,
        pages=pages,
        resource_server=resource_server,
        accounts=trace.get_account,
        fixed=runtime.test_principal,
    )

    async def principal(request: Request[Any, Any, Any]) -> Principal:
        return await auth.principal(request)

    def on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        return problem_response(exc, request, resource_server)

    dependencies: dict[str, Provide | Callable[..., Any]] = {
        "trace": _constant(trace),
        "api_keys": Provide(lambda: runtime.api_keys, use_cache=True, sync_to_thread=False),
        "credentials": _constant(runtime.credentials),
        "principal": Provide(principal),
    }
    return Router(
        path=API_PREFIX,
        route_handlers=[
            StreamsController,
            EntriesController,
            SearchController,
            TrashController,
            AccountController,
            KeysController,
            *attachment_handlers(trace.limits.max_attachment_bytes),
        ],
        dependencies=dependencies,
        # Every error of these routes, whatever its kind (TraceError too: it would
        # otherwise go to the app's JSON handler), becomes a problem answer.
        exception_handlers={TraceError: on_error, HTTPException: on_error, Exception: on_error},
        include_in_schema=True,
    )
