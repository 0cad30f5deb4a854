"""The Litestar application: MCP at ``/``, ``/mcp`` and ``/mcp/``, and what surrounds it.

:func:`create_app` assembles the app from the :class:`~trace_http.runtime.Runtime`
the composition root built (tests build one with in-memory parts); it builds
no adapter and reads no settings. :func:`serve` runs it with uvicorn
(``trace serve``).

Routes here:

- MCP (``/``, ``/mcp``, ``/mcp/``; POST, GET, DELETE, HEAD, OPTIONS): see
  :mod:`trace_http.web.mcp_endpoint`;
- Protected Resource Metadata (RFC 9728) at ``/.well-known/oauth-protected-resource``
  (resource ``https://HOST``) and ``/.well-known/oauth-protected-resource/mcp``
  (resource ``https://HOST/mcp``);
- signed attachment downloads at ``/attachments/{id}?account=…&expires=…&sig=…``
  (streamed, or a redirect to the blob store's own presigned URL);
- ``/health``.

CORS is on for every route (preflights need no token; 401s carry the CORS
headers too, so browser clients can read the challenge). Core errors raised by
route handlers become HTTP answers in one place, :func:`trace_error_response`;
every 5xx answer, whichever route gave it, is logged once through
:class:`~trace_http.web.errorlog.ServerErrorLog` (outages only where they start and end).
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import AsyncIterator, Callable, MutableMapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from litestar import Litestar, Request, Response, get
from litestar.config.cors import CORSConfig
from litestar.exceptions import HTTPException
from litestar.handlers import asgi
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Stream
from litestar.types import ControllerRouterHandler, Message, Receive, Scope, Send
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from trace_core.errors import (
    AuthenticationError,
    ConflictError,
    InsufficientScopeError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    TraceError,
    UnavailableError,
)
from trace_core.model import Principal
from trace_core.model import Scope as AuthScope
from trace_http.web.errorlog import ServerErrorLog
from trace_http.web.mcp_endpoint import McpEndpoint, ResourceServer, challenge
from trace_http.web.ratelimit import retry_after_header
from trace_mcp import McpOptions, TraceMcp

if TYPE_CHECKING:
    import uvicorn

    from trace_http.runtime import Job, Options, Runtime

__all__ = [
    "CORS_ALLOW_HEADERS",
    "CORS_EXPOSE_HEADERS",
    "create_app",
    "listening_socket",
    "serve",
    "server_config",
    "status_for",
    "trace_error_response",
]

logger = logging.getLogger("trace_http")

CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "Mcp-Protocol-Version",
    "Mcp-Session-Id",
    "Mcp-Method",
    "Mcp-Name",
    "Last-Event-ID",
)
CORS_EXPOSE_HEADERS = (
    "WWW-Authenticate",
    "Mcp-Session-Id",
    "Mcp-Protocol-Version",
    "Retry-After",
    "ETag",
    "Link",
    "Location",
)

_STATUS: tuple[tuple[type[TraceError], int], ...] = (
    (NotFoundError, 404),
    (InsufficientScopeError, 403),
    (PermissionDeniedError, 403),
    (AuthenticationError, 401),
    (InvalidInputError, 400),
    (ConflictError, 409),
    (RateLimitedError, 429),
    (UnavailableError, 503),
)


def status_for(exc: BaseException) -> int:
    """Return the HTTP status an exception raised by a route handler is answered with."""
    if isinstance(exc, TraceError):
        return next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
    if isinstance(exc, HTTPException):
        return exc.status_code
    return 500


def _mutable(scope: Any) -> MutableMapping[str, Any]:
    """Return an ASGI scope (Litestar types it as a TypedDict union) as the mapping it is."""
    return cast("MutableMapping[str, Any]", scope)


def trace_error_response(
    exc: TraceError, resource_server: ResourceServer, path: str = "/"
) -> Response[Any]:
    """Map a core error to its HTTP answer: status, JSON body, and challenge headers."""
    status = status_for(exc)
    headers: dict[str, str] = {"Cache-Control": "no-store"}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = challenge(resource_server, path, error="invalid_token")
    elif isinstance(exc, InsufficientScopeError):
        headers["WWW-Authenticate"] = challenge(
            resource_server, path, error="insufficient_scope", scope=exc.required_scope
        )
    elif isinstance(exc, RateLimitedError):
        headers["Retry-After"] = retry_after_header(exc.retry_after)
    body = {"error": exc.code, "error_description": exc.message, **exc.details}
    return Response(content=body, status_code=status, headers=headers)


def create_app(
    runtime: Runtime,
    *,
    route_handlers: Sequence[ControllerRouterHandler] = (),
    direct_dispatch: bool = True,
    error_log: ServerErrorLog | None = None,
    debug: bool = False,
) -> Litestar:
    """Build the Litestar application from the parts the composition root built.

    Args:
        runtime: every wired part (:func:`trace_http.bootstrap.build_runtime`).
        route_handlers: more routes (REST API, web UI; tests add their own).
        direct_dispatch: answer plain ``tools/call``/``ping`` requests of the
            handshake-era protocols without the SDK's per-request transport (the
            answers are the same; False sends every request through the SDK).
        error_log: where 5xx answers and outages are logged (default: a new one).
        debug: Litestar debug mode.

    Returns:
        The application; its lifespan runs the MCP session manager and the
        runtime's background jobs.

    """
    from trace_http.web.api import (
        ArgsSchemaPlugin,
        api_openapi_config,
        api_router,
        unrouted_handlers,
    )
    from trace_http.web.oauth import oauth_router

    trace = runtime.trace
    options = runtime.options
    resource_server = ResourceServer(
        public_url=options.public_url,
        allowed_hosts=options.allowed_hosts,
        allowed_origins=options.allowed_origins,
    )
    signer = runtime.signer
    failures = error_log or ServerErrorLog()
    mcp = TraceMcp(
        trace,
        options=McpOptions(
            public_url=options.public_url, max_response_chars=options.max_response_chars
        ),
        signer=signer,
    )
    # Host and Origin are checked by McpEndpoint, in one place, from our settings;
    # the SDK's own check (localhost only by default) is switched off.
    manager = StreamableHTTPSessionManager(
        app=mcp.server,
        json_response=True,
        stateless=True,
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        max_request_body_size=resource_server.max_body_bytes,
    )
    test_principal = runtime.test_principal
    endpoint = McpEndpoint(
        manager=manager,
        resource_server=resource_server,
        authenticator=runtime.authenticator if test_principal is None else None,
        rate_limiter=runtime.limiter,
        fixed_principal=test_principal,
        direct=mcp.answer_directly if direct_dispatch else None,
    )

    @asgi(path=["/", "/mcp"], name="mcp", copy_scope=False)
    async def mcp_route(scope: Scope, receive: Receive, send: Send) -> None:
        await endpoint(scope, receive, send)  # type: ignore[arg-type]

    @get(
        "/.well-known/oauth-protected-resource",
        name="prm-root",
        sync_to_thread=False,
        include_in_schema=False,
    )
    def prm_root() -> dict[str, Any]:
        return resource_server.metadata(resource_server.public_url)

    @get(
        "/.well-known/oauth-protected-resource/mcp",
        name="prm-mcp",
        sync_to_thread=False,
        include_in_schema=False,
    )
    def prm_mcp() -> dict[str, Any]:
        return resource_server.metadata(f"{resource_server.public_url}/mcp")

    @get("/health", name="health", include_in_schema=False)
    async def health(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            async with trace.storage.unit_of_work() as uow:
                await uow.accounts.get(UUID(int=0))
        except Exception as exc:
            failures.failed(exc, _mutable(request.scope), 503)
            return Response({"status": "unavailable", "database": "down"}, status_code=503)
        return Response({"status": "ok", "database": "ok"}, headers={"Cache-Control": "no-store"})

    @get("/attachments/{attachment_id:str}", name="attachment-download", include_in_schema=False)
    async def download(
        attachment_id: FromPath[str],
        account: FromQuery[str | None] = None,
        expires: FromQuery[str | None] = None,
        sig: FromQuery[str | None] = None,
    ) -> Stream | Redirect:
        account_id, attachment_uuid = signer.verify(
            attachment_id, account=account, expires=expires, sig=sig
        )
        # The signature is the authority to read this one attachment, for this
        # account only; core still scopes the read to the account.
        principal = Principal(
            account_id=account_id,
            scopes=frozenset({AuthScope.READ}),
            actor="signed-url",
            via="system",
        )
        remaining = max(0, int(expires or 0) - int(trace.clock.now().timestamp()))
        # A blob store that serves URLs (S3 with presigned downloads) sends the
        # bytes itself, for no longer than this link lasts; else they stream through.
        _, url = await trace.presigned_attachment_url(
            principal, attachment_uuid, ttl_seconds=max(1, remaining)
        )
        if url is not None:
            return Redirect(url, headers={"Cache-Control": f"private, max-age={remaining}"})
        attachment, chunks = await trace.open_attachment(principal, attachment_uuid)
        filename = (attachment.filename or f"{attachment.attachment_id}").replace('"', "")
        return Stream(
            chunks,
            media_type=attachment.mime_type,
            headers={
                "Cache-Control": f"private, max-age={remaining}",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'inline; filename="{filename}"',
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    def on_trace_error(request: Request[Any, Any, Any], exc: TraceError) -> Response[Any]:
        return trace_error_response(exc, resource_server, request.url.path)

    # The one place 5xx answers are logged, for every route (the MCP endpoint's
    # exceptions propagate to Litestar's handler like any route's).
    async def log_server_error(exc: Exception, scope: Scope) -> None:
        status = status_for(exc)
        if status >= 500:
            failures.failed(exc, _mutable(scope), status)

    async def note_answer(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            failures.answered(_mutable(scope), message["status"])

    @asynccontextmanager
    async def run_mcp(_: Litestar) -> AsyncIterator[None]:
        async with manager.run():
            yield

    def lifespan(job: Job) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
        return lambda _app: job()

    cors = CORSConfig(
        allow_origins=["*"],
        allow_methods=["GET", "POST", "DELETE", "OPTIONS", "HEAD", "PUT", "PATCH"],
        # Echo whatever a preflight asks for (Mcp-Param-* headers have open-ended
        # names); CORS_ALLOW_HEADERS is the minimum clients rely on.
        allow_headers=["*", *CORS_ALLOW_HEADERS],
        expose_headers=list(CORS_EXPOSE_HEADERS),
        allow_credentials=False,
        max_age=86400,
    )
    app = Litestar(
        route_handlers=[
            mcp_route,
            prm_root,
            prm_mcp,
            health,
            download,
            oauth_router(runtime),
            api_router(runtime, resource_server),
            *route_handlers,
        ],
        cors_config=cors,
        exception_handlers={TraceError: on_trace_error, **unrouted_handlers(resource_server)},
        after_exception=[log_server_error],
        before_send=[note_answer],
        lifespan=[run_mcp, *(lifespan(job) for job in runtime.background)],
        debug=debug,
        # The OpenAPI document (/api/openapi.json) describes the REST API only.
        openapi_config=api_openapi_config(),
        plugins=[ArgsSchemaPlugin()],
    )
    app.state.trace = trace
    app.state.mcp = mcp
    app.state.resource_server = resource_server
    app.state.error_log = failures
    return app


# --- serving ---------------------------------------------------------------------


def server_config(app: Litestar, options: Options) -> uvicorn.Config:
    """Return uvicorn's configuration for ``trace serve``, with logging set up.

    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are honoured only on connections
    from the trusted proxies (``server.trusted_proxies``); with none configured
    they are ignored and the connecting peer is the client address every per-address limit counts.

    Creating the configuration configures uvicorn's loggers (the app's were set
    up when it was built); then every handler gets the secret filter
    (:func:`trace_http.web.logs.redact_secrets_in_logs`): at ``debug`` the access log
    shows each request's path and query, and signed attachment URLs must not
    outlive their request there.
    """
    import uvicorn

    from trace_http.web.logs import redact_secrets_in_logs

    if options.log_level != "debug":
        # The SDK logs every stateless request at INFO ("Terminating session: None").
        logging.getLogger("mcp.server.streamable_http").setLevel(logging.WARNING)
    proxies = list(options.trusted_proxies)
    config = uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        log_level=options.log_level,
        lifespan="on",
        server_header=False,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        access_log=options.log_level == "debug",
    )
    redact_secrets_in_logs()
    return config


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind and return the server's listening socket, before anything else starts.

    Binding here, not in uvicorn, turns a taken port into one line saying what to
    do instead of uvicorn's multi-line log and exit code; uvicorn then serves on
    this socket, so nothing can take the port in between. Bound as uvicorn binds
    (IPv6 for an address with a colon, ``SO_REUSEADDR``).

    Raises:
        InvalidInputError: the port is in use or needs privileges (field
            ``server.port``), or the address is not one of this machine's
            (``server.host``).

    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, as uvicorn's own bind does: asyncio sets TCP_NODELAY only on
    # connections whose socket says TCP, and without it every answer written in two
    # parts (headers, then body) waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        if exc.errno == errno.EADDRINUSE:
            raise InvalidInputError(
                "server.port", f"port {port} on {shown} is in use: choose another with --port"
            ) from None
        if exc.errno == errno.EACCES:
            raise InvalidInputError(
                "server.port",
                f"port {port} on {shown} needs privileges: choose one above 1023 with --port",
            ) from None
        reason = exc.strerror or str(exc)
        raise InvalidInputError(
            "server.host", f"cannot listen on {shown} ({reason}): choose another with --host"
        ) from None
    return sock


async def serve(runtime: Runtime, sock: socket.socket | None = None) -> None:
    """Run the server with uvicorn until interrupted (``trace serve``).

    Args:
        runtime: every wired part.
        sock: the listening socket (:func:`listening_socket`); bound here if not given.

    Raises:
        InvalidInputError: the host and port cannot be listened on.

    """
    import uvicorn

    options = runtime.options
    if sock is None:
        sock = listening_socket(options.host, options.port)
    config = server_config(create_app(runtime), options)

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            # uvicorn says where it listens only for sockets it bound itself.
            host = f"[{options.host}]" if ":" in options.host else options.host
            logging.getLogger("uvicorn.error").info(
                "Uvicorn running on http://%s:%d (Press CTRL+C to quit)", host, options.port
            )

    try:
        await Server(config).serve(sockets=[sock])
    finally:
        sock.close()
