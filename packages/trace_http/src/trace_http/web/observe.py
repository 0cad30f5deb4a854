"""The operator's view: request ids, the access log, Prometheus metrics and health probes.

:class:`Observer` wraps the whole web app (every request, matched or not, passes
it) and, per request:

- takes the caller's ``X-Request-Id`` (1 to 64 of ``A-Z a-z 0-9 . _ -``) or makes
  one, returns it on the answer and binds it to the log context (every line
  logged while the request runs carries ``request_id``);
- writes one access line (logger ``trace_http.access``): method, path (never the
  query string), route, status, duration, client address, request id and, for
  MCP tool calls, the tool;
- counts it in the metrics, when they are on.

The metrics (prometheus-client, one registry per app) are listed in
:data:`METRICS`; labels hold route names, methods, statuses, tool names and error
codes only, never anything a caller wrote. Figures that are read rather than
counted (the database pool, the search outbox) come from :class:`Probes` when
``/metrics`` is scraped. ``/health/live`` and ``/health/ready`` are
:func:`health_routes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from litestar import Response, get
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from trace_core.errors import TraceError
from trace_http.web._structlog import structlog
from trace_http.web.probes import Probes, probes_for

if TYPE_CHECKING:
    from litestar.types import ControllerRouterHandler

__all__ = [
    "METRICS",
    "REQUEST_ID_HEADER",
    "MetricsListener",
    "Observer",
    "Probes",
    "health_routes",
    "probes_for",
    "startup_line",
]

access_log = logging.getLogger("trace_http.access")
logger = logging.getLogger("trace_http.health")

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_KEY = b"x-request-id"
_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
_TOOL_KEY = "trace.mcp_tool"

METRICS: dict[str, str] = {
    "trace_http_requests_total": "HTTP requests answered, by route, method and status.",
    "trace_http_request_duration_seconds": "Time to answer an HTTP request, by route and method.",
    "trace_http_requests_in_flight": "HTTP requests being answered now.",
    "trace_mcp_tool_calls_total": "MCP tool calls, by tool and outcome (ok or the error code).",
    "trace_mcp_tool_duration_seconds": "Time to run an MCP tool, by tool.",
    "trace_errors_total": "Errors answered: core error codes (tools and routes) and HTTP 5xx.",
    "trace_auth_failures_total": "Requests refused for missing or bad credentials (401), by route.",
    "trace_rate_limited_total": "Requests refused by a rate limit (429), by route.",
    "trace_db_pool_size": "Connections the database pool keeps.",
    "trace_db_pool_checked_out": "Database connections in use now.",
    "trace_db_pool_overflow": "Connections open beyond the pool's size.",
    "trace_search_outbox_pending": "Entry changes waiting to reach the search engine.",
    "trace_search_outbox_lag_seconds": "Age of the oldest change waiting for the search engine.",
}
"""Every metric, with its help text (docs/deploy.md lists the same)."""

_FIGURES = (
    "db_pool_size",
    "db_pool_checked_out",
    "db_pool_overflow",
    "search_outbox_pending",
    "search_outbox_lag_seconds",
)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

_request_state: ContextVar[dict[str, Any] | None] = ContextVar("trace_request", default=None)


def _route(scope: MutableMapping[str, Any]) -> str:
    """Return the route's name, else its path template; unmatched requests share one label."""
    handler = scope.get("route_handler")
    if handler is None:
        return "unmatched"
    return str(getattr(handler, "name", None) or scope.get("path_template") or "unmatched")


def _request_id(scope: MutableMapping[str, Any]) -> bytes:
    for key, value in scope.get("headers", ()):
        if key == _REQUEST_ID_KEY:
            if _REQUEST_ID.match(value):
                return bytes(value)
            break
    return uuid.uuid4().hex.encode()


class Observer:
    """Request ids, the access log and the metrics of one web app.

    Args:
        metrics: count requests and tool calls in a Prometheus registry.
        probes: figures read when ``/metrics`` is scraped.

    """

    def __init__(self, *, metrics: bool = False, probes: Probes | None = None) -> None:
        self.metrics = metrics
        self.probes = probes
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        h = METRICS
        self.requests = Counter(
            "trace_http_requests",
            h["trace_http_requests_total"],
            ("route", "method", "status"),
            registry=r,
        )
        self.latency = Histogram(
            "trace_http_request_duration_seconds",
            h["trace_http_request_duration_seconds"],
            ("route", "method"),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "trace_http_requests_in_flight", h["trace_http_requests_in_flight"], registry=r
        )
        self.tool_calls = Counter(
            "trace_mcp_tool_calls", h["trace_mcp_tool_calls_total"], ("tool", "outcome"), registry=r
        )
        self.tool_latency = Histogram(
            "trace_mcp_tool_duration_seconds",
            h["trace_mcp_tool_duration_seconds"],
            ("tool",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter("trace_errors", h["trace_errors_total"], ("code",), registry=r)
        self.auth_failures = Counter(
            "trace_auth_failures", h["trace_auth_failures_total"], ("route",), registry=r
        )
        self.rate_limited = Counter(
            "trace_rate_limited", h["trace_rate_limited_total"], ("route",), registry=r
        )
        self.figures = {
            name: Gauge(f"trace_{name}", h[f"trace_{name}"], registry=r) for name in _FIGURES
        }

    # --- what other parts report -------------------------------------------------

    def tool_called(self, tool: str, error_code: str | None, seconds: float) -> None:
        """Record one MCP tool call (``trace_mcp.TraceMcp``'s observer)."""
        state = _request_state.get()
        if state is not None:
            state[_TOOL_KEY] = tool
        if not self.metrics:
            return
        self.tool_calls.labels(tool, error_code or "ok").inc()
        self.tool_latency.labels(tool).observe(seconds)
        if error_code is not None:
            self.errors.labels(error_code).inc()

    def error_answered(self, exc: BaseException) -> None:
        """Record an error a route answered (the app's exception hooks)."""
        if self.metrics:
            code = exc.code if isinstance(exc, TraceError) else "internal"
            self.errors.labels(code).inc()

    # --- the ASGI wrapper ------------------------------------------------------------

    def wrap(self, app: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """Return ``app`` with request ids, the access line and the request metrics around it."""
        observer = self

        async def observed(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            request_id = _request_id(scope)
            state: dict[str, Any] = {"status": 500}
            token = _request_state.set(state)
            bound = structlog.contextvars.bind_contextvars(request_id=request_id.decode())
            if observer.metrics:
                observer.in_flight.inc()

            async def send_with_id(message: Any) -> None:
                if message["type"] == "http.response.start":
                    state["status"] = message["status"]
                    message = {
                        **message,
                        "headers": [*message.get("headers", ()), (_REQUEST_ID_KEY, request_id)],
                    }
                await send(message)

            try:
                await app(scope, receive, send_with_id)
            finally:
                observer._finished(scope, state, time.perf_counter() - started)
                structlog.contextvars.reset_contextvars(**bound)
                _request_state.reset(token)

        return observed

    def _finished(self, scope: Any, state: dict[str, Any], seconds: float) -> None:
        status: int = state["status"]
        route = _route(scope)
        method = scope.get("method", "-")
        if self.metrics:
            self.in_flight.dec()
            self.requests.labels(route, method, str(status)).inc()
            self.latency.labels(route, method).observe(seconds)
            if status == 401:
                self.auth_failures.labels(route).inc()
            elif status == 429:
                self.rate_limited.labels(route).inc()
        if access_log.isEnabledFor(logging.INFO):
            client = scope.get("client")
            extra = {
                "method": method,
                "path": scope.get("path", "-"),
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": client[0] if client else None,
            }
            tool = state.get(_TOOL_KEY)
            if tool is not None:
                extra["tool"] = tool
            access_log.info(
                "%s %s %d %.1f ms", method, extra["path"], status, seconds * 1000, extra=extra
            )

    # --- /metrics -----------------------------------------------------------------

    async def exposition(self) -> bytes:
        """Return the metrics in the Prometheus text format, figures read now."""
        if self.probes is not None and self.probes.figures is not None:
            try:
                figures = await self.probes.figures()
            except Exception as exc:
                logger.warning("metrics: could not read the figures: %s", type(exc).__name__)
                figures = {}
            for name, gauge in self.figures.items():
                if name in figures:
                    gauge.set(figures[name])
        return generate_latest(self.registry)

    def metrics_app(self) -> Callable[..., Awaitable[None]]:
        """Return the ASGI app of the metrics listener: ``GET /metrics``, 404 elsewhere."""
        observer = self

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "lifespan":
                while (await receive())["type"] != "lifespan.shutdown":
                    await send({"type": "lifespan.startup.complete"})
                await send({"type": "lifespan.shutdown.complete"})
                return
            if scope["type"] != "http":
                return
            if scope.get("path") != "/metrics" or scope.get("method") not in ("GET", "HEAD"):
                await _plain(send, 404, b"not found: the metrics are at GET /metrics\n")
                return
            body = await observer.exposition()
            await _plain(send, 200, body, CONTENT_TYPE_LATEST)

        return app


async def _plain(send: Any, status: int, body: bytes, content_type: str = "text/plain") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- health -----------------------------------------------------------------------


def health_routes(
    probes: Probes, *, observer: Observer | None = None
) -> list[ControllerRouterHandler]:
    """Return ``/health/live``, ``/health/ready`` and (with ``observer``) ``/metrics``.

    ``/health/live`` answers 200 while the process serves requests (no I/O).
    ``/health/ready`` answers 200 when the database and the search index answer,
    503 naming what does not otherwise; it asks them on every call.
    """
    headers = {"Cache-Control": "no-store"}

    @get("/health/live", name="health-live", sync_to_thread=False, include_in_schema=False)
    def live() -> Response[Any]:
        return Response({"status": "ok"}, headers=headers)

    @get("/health/ready", name="health-ready", include_in_schema=False)
    async def ready() -> Response[Any]:
        checks: dict[str, str] = {}
        for name, probe in (("database", probes.database), ("search", probes.search)):
            if probe is None:
                continue
            try:
                await probe()
            except Exception as exc:
                checks[name] = "down"
                logger.warning("not ready: %s check failed: %s", name, type(exc).__name__)
            else:
                checks[name] = "ok"
        down = any(state != "ok" for state in checks.values())
        body = {"status": "unavailable" if down else "ok", **checks}
        return Response(body, status_code=503 if down else 200, headers=headers)

    routes: list[ControllerRouterHandler] = [live, ready]
    if observer is not None:

        @get("/metrics", name="metrics", include_in_schema=False)
        async def metrics() -> Response[bytes]:
            return Response(
                await observer.exposition(), media_type=CONTENT_TYPE_LATEST, headers=headers
            )

        routes.append(metrics)
    return routes


# --- the metrics listener -------------------------------------------------------------


class MetricsListener:
    """``/metrics`` on its own address (``metrics.host``:``metrics.port``), beside the server.

    The socket is bound when this is made (a taken port is refused before the
    server starts, naming ``metrics.port``); :meth:`start` serves it with a second,
    quiet uvicorn server in the same event loop, :meth:`stop` ends it.

    Raises:
        InvalidInputError: the metrics port is taken or the host is not this machine's.

    """

    def __init__(self, observer: Observer, host: str, port: int) -> None:
        import uvicorn

        from trace_core.errors import InvalidInputError
        from trace_http.web.app import listening_socket

        try:
            self.sock = listening_socket(host, port)
        except InvalidInputError as exc:
            field = "metrics.port" if exc.field == "server.port" else "metrics.host"
            message = exc.message.partition(": ")[2].replace("--port", "metrics.port")
            raise InvalidInputError(
                field, message.replace("--host", "metrics.host") + " (metrics listener)"
            ) from None
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}/metrics"

        class Quiet(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # the main server owns the signals

        self.server = Quiet(
            uvicorn.Config(
                observer.metrics_app(),
                lifespan="off",
                log_config=None,
                access_log=False,
                server_header=False,
            )
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start serving (in the running event loop)."""
        self._task = asyncio.get_running_loop().create_task(self.server.serve([self.sock]))
        logger.info("metrics at %s", self.url)

    async def stop(self) -> None:
        """Stop serving and wait until it has stopped."""
        self.server.should_exit = True
        if self._task is not None:
            await self._task
            self._task = None

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


def startup_line(options: Any) -> str:
    """Return the line ``trace serve`` prints first: data, database, public URL, where to go."""
    parts = [f"data: {options.data_dir}"] if options.data_dir else []
    if options.database:
        parts.append(f"database: {options.database}")
    parts.append(f"public URL: {options.public_url}")
    if options.metrics:
        where = (
            f"{options.public_url}/metrics"
            if options.metrics_on_public_port
            else f"http://{options.metrics_host}:{options.metrics_port}/metrics"
        )
        parts.append(f"metrics: {where}")
    parts.append(f"open {options.public_url}/settings/integrations")
    return " · ".join(parts)
