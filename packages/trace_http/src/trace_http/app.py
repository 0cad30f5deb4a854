"""The Litestar application: MCP at ``/``, ``/mcp`` and ``/mcp/``, and what surrounds it.

:func:`create_app` assembles the app from parts that are already built (the
facade, an authenticator, a signer, a rate limiter), so tests pass in-memory
ones; :func:`open_app` builds those parts from the settings; :func:`serve` runs
it with uvicorn (``trace serve``).

Routes here:

- MCP (``/``, ``/mcp``, ``/mcp/``; POST, GET, DELETE, HEAD, OPTIONS): see
  :mod:`trace_http.mcp_endpoint`;
- Protected Resource Metadata (RFC 9728) at ``/.well-known/oauth-protected-resource``
  (resource ``https://HOST``) and ``/.well-known/oauth-protected-resource/mcp``
  (resource ``https://HOST/mcp``);
- signed attachment downloads at ``/attachments/{id}?account=…&expires=…&sig=…``;
- ``/health``.

CORS is on for every route (preflights need no token; 401s carry the CORS
headers too, so browser clients can read the challenge). Core errors raised by
route handlers become HTTP answers in one place, :func:`trace_error_response`;
every 5xx answer, whichever route gave it, is logged once through
:class:`~trace_http.errorlog.ServerErrorLog` (outages only where they start and end).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import AsyncIterator, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from litestar import Litestar, Request, Response, get
from litestar.config.cors import CORSConfig
from litestar.exceptions import HTTPException
from litestar.handlers import asgi
from litestar.params import FromPath, FromQuery
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
from trace_core.ports import Authenticator
from trace_core.service import Trace
from trace_http.errorlog import ServerErrorLog
from trace_http.mcp_endpoint import McpEndpoint, ResourceServer, challenge
from trace_http.ratelimit import RateLimiter, retry_after_header
from trace_mcp import AttachmentUrlSigner, McpOptions, TraceMcp

if TYPE_CHECKING:
    import uvicorn

    from trace_http.settings import Settings

__all__ = [
    "CORS_ALLOW_HEADERS",
    "CORS_EXPOSE_HEADERS",
    "create_app",
    "open_app",
    "serve",
    "server_config",
    "status_for",
    "trace_error_response",
    "trusted_proxies",
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
CORS_EXPOSE_HEADERS = ("WWW-Authenticate", "Mcp-Session-Id", "Mcp-Protocol-Version", "Retry-After")

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
    *,
    trace: Trace,
    resource_server: ResourceServer,
    authenticator: Authenticator | None,
    signer: AttachmentUrlSigner | None = None,
    rate_limiter: RateLimiter | None = None,
    mcp_options: McpOptions | None = None,
    test_principal: Principal | None = None,
    route_handlers: Sequence[ControllerRouterHandler] = (),
    lifespan: Sequence[Any] = (),
    debug: bool = False,
    direct_dispatch: bool = True,
    error_log: ServerErrorLog | None = None,
) -> Litestar:
    """Build the Litestar application around an existing facade.

    Args:
        trace: the facade.
        resource_server: public URL, scopes and Host/Origin allow-lists.
        authenticator: checks bearer credentials (None only with ``test_principal``).
        signer: signs and verifies attachment download URLs.
        rate_limiter: per-credential limit on the MCP endpoint.
        mcp_options: tool answer options (public URL defaults to the resource server's).
        test_principal: serve MCP without authentication as this principal
            (tests and the conformance suite only).
        route_handlers: more routes (OAuth pages, REST API, web UI).
        lifespan: more lifespan context managers (e.g. to close storage).
        debug: Litestar debug mode.
        direct_dispatch: answer plain ``tools/call``/``ping`` requests of the
            handshake-era protocols without the SDK's per-request transport (the
            answers are the same; False sends every request through the SDK).
        error_log: where 5xx answers and outages are logged (default: a new one).

    Returns:
        The application; its lifespan runs the MCP session manager.

    """
    options = mcp_options or McpOptions(public_url=resource_server.public_url)
    failures = error_log or ServerErrorLog()
    mcp = TraceMcp(trace, options=options, signer=signer)
    # Host and Origin are checked by McpEndpoint, in one place, from our settings;
    # the SDK's own check (localhost only by default) is switched off.
    manager = StreamableHTTPSessionManager(
        app=mcp.server,
        json_response=True,
        stateless=True,
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        max_request_body_size=resource_server.max_body_bytes,
    )
    endpoint = McpEndpoint(
        manager=manager,
        resource_server=resource_server,
        authenticator=authenticator,
        rate_limiter=rate_limiter,
        fixed_principal=test_principal,
        direct=mcp.answer_directly if direct_dispatch else None,
    )

    @asgi(path=["/", "/mcp"], name="mcp", copy_scope=False)
    async def mcp_route(scope: Scope, receive: Receive, send: Send) -> None:
        await endpoint(scope, receive, send)  # type: ignore[arg-type]

    @get("/.well-known/oauth-protected-resource", name="prm-root", sync_to_thread=False)
    def prm_root() -> dict[str, Any]:
        return resource_server.metadata(resource_server.public_url)

    @get("/.well-known/oauth-protected-resource/mcp", name="prm-mcp", sync_to_thread=False)
    def prm_mcp() -> dict[str, Any]:
        return resource_server.metadata(f"{resource_server.public_url}/mcp")

    @get("/health", name="health")
    async def health(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            async with trace.storage.unit_of_work() as uow:
                await uow.accounts.get(UUID(int=0))
        except Exception as exc:
            failures.failed(exc, _mutable(request.scope), 503)
            return Response({"status": "unavailable", "database": "down"}, status_code=503)
        return Response({"status": "ok", "database": "ok"}, headers={"Cache-Control": "no-store"})

    @get("/attachments/{attachment_id:str}", name="attachment-download")
    async def download(
        attachment_id: FromPath[str],
        account: FromQuery[str | None] = None,
        expires: FromQuery[str | None] = None,
        sig: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        if signer is None:
            raise UnavailableError("attachment downloads are not configured")
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
        attachment, data = await trace.read_attachment(principal, attachment_uuid)
        remaining = max(0, int(expires or 0) - int(trace.clock.now().timestamp()))
        filename = (attachment.filename or f"{attachment.attachment_id}").replace('"', "")
        return Response(
            content=data,
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
        route_handlers=[mcp_route, prm_root, prm_mcp, health, download, *route_handlers],
        cors_config=cors,
        exception_handlers={TraceError: on_trace_error},
        after_exception=[log_server_error],
        before_send=[note_answer],
        lifespan=[run_mcp, *lifespan],
        debug=debug,
        openapi_config=None,
    )
    app.state.trace = trace
    app.state.mcp = mcp
    app.state.resource_server = resource_server
    app.state.error_log = failures
    return app


# --- from settings -----------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or name) is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def public_url_for(settings: Settings, host: str, port: int) -> str:
    """Return the public origin: ``server.public_url``, else the address being served."""
    if settings.server.public_url:
        return settings.server.public_url.rstrip("/")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - display only
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


@asynccontextmanager
async def open_app(
    settings: Settings, *, host: str | None = None, port: int | None = None
) -> AsyncIterator[Litestar]:
    """Build every adapter from ``settings`` (migrating the database) and the app on top.

    Closes the storage on exit.

    Raises:
        InvalidInputError: ``mcp.disable_auth_for_tests`` on a non-loopback address.

    """
    from trace_core.service import SystemClock
    from trace_http.bootstrap import open_trace
    from trace_http.cli_search import search_lifespan
    from trace_http.maintenance import maintenance_lifespan
    from trace_http.oauth_routes import oauth_config, oauth_handlers_from_settings
    from trace_http.ratelimit import SharedWindowLimiter, TokenBucketLimiter
    from trace_mcp import load_or_create_secret
    from trace_oauth.authenticator import BearerAuthenticator
    from trace_sql.credentials import SqlCredentialStore

    host = host or settings.server.host
    port = port or settings.server.port
    mcp_settings = settings.mcp
    if mcp_settings.disable_auth_for_tests and not is_loopback(host):
        raise InvalidInputError(
            "mcp.disable_auth_for_tests",
            f"refusing to serve without authentication on {host}: only on a loopback address",
        )
    public_url = public_url_for(settings, host, port)
    resource_server = ResourceServer(
        public_url=public_url,
        allowed_hosts=tuple(mcp_settings.allowed_hosts),
        allowed_origins=tuple(mcp_settings.allowed_origins),
    )
    async with open_trace(settings) as trace:
        storage = trace.storage
        credentials = SqlCredentialStore(storage)  # type: ignore[arg-type]
        clock = SystemClock()
        secret = (
            mcp_settings.attachment_url_secret.encode()
            if mcp_settings.attachment_url_secret
            else load_or_create_secret(settings.storage.data_path / "attachment-url.key")
        )
        signer = AttachmentUrlSigner(
            secret, public_url, ttl_seconds=mcp_settings.attachment_url_ttl_seconds
        )
        shared = mcp_settings.rate_limit_shared
        if shared is None:
            shared = not settings.storage.is_sqlite
        limiter: RateLimiter = (
            SharedWindowLimiter(
                credentials,
                burst=mcp_settings.rate_limit_burst,
                rate=mcp_settings.rate_limit_per_second,
            )
            if shared
            else TokenBucketLimiter(
                burst=mcp_settings.rate_limit_burst, rate=mcp_settings.rate_limit_per_second
            )
        )
        test_principal = None
        authenticator: Authenticator | None = None
        if mcp_settings.disable_auth_for_tests:
            test_principal = await _test_principal(trace, mcp_settings.test_user)
            logger.warning("MCP authentication is DISABLED (tests only) on %s", host)
        else:
            authenticator = BearerAuthenticator(
                storage=storage,
                credentials=credentials,
                config=oauth_config(settings, public_url),
                clock=clock,
            )
        yield create_app(
            trace=trace,
            resource_server=resource_server,
            authenticator=authenticator,
            signer=signer,
            rate_limiter=limiter,
            mcp_options=McpOptions(
                public_url=public_url, max_response_chars=mcp_settings.max_response_chars
            ),
            test_principal=test_principal,
            lifespan=[
                search_lifespan(trace),
                maintenance_lifespan(trace, settings.storage.maintenance_interval_seconds),
            ],
            route_handlers=[
                *_extra_routes(settings),
                *oauth_handlers_from_settings(
                    settings,
                    public_url=public_url,
                    storage=storage,
                    credentials=credentials,
                    clock=clock,
                    trace=trace,
                ),
            ],
        )


def _extra_routes(settings: Settings) -> list[ControllerRouterHandler]:
    """Routes other parts of trace_http contribute (OAuth, REST, web UI), when present."""
    return []


async def _test_principal(trace: Trace, email: str | None) -> Principal:
    from trace_core.errors import NotFoundError as Missing

    email = email or "test@localhost.localdomain"
    try:
        account = await trace.get_account_by_email(email)
    except Missing:
        account = await trace.create_account(email)
    return Principal(
        account_id=account.account_id,
        scopes=frozenset({AuthScope.FULL}),
        actor="tests (auth disabled)",
        via="system",
    )


def trusted_proxies(settings: Settings) -> list[str]:
    """Return ``server.trusted_proxies`` as uvicorn's allow-list wants it.

    Networks are normalised (``10.0.0.1/8`` → ``10.0.0.0/8``): uvicorn would
    otherwise take a network with host bits set for a literal and never match it.
    """
    return [
        str(ipaddress.ip_network(proxy, strict=False)) if "/" in proxy else proxy
        for proxy in settings.server.trusted_proxies
    ]


def server_config(app: Litestar, settings: Settings, *, host: str, port: int) -> uvicorn.Config:
    """Return uvicorn's configuration for ``trace serve``, with logging set up.

    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are honoured only on connections
    from ``server.trusted_proxies``; with none configured they are ignored and the
    connecting peer is the client address every per-address limit counts.

    Creating the configuration configures uvicorn's loggers (the app's were set
    up when it was built); then every handler gets the secret filter
    (:func:`trace_http.logs.redact_secrets_in_logs`): at ``debug`` the access log
    shows each request's path and query, and signed attachment URLs must not
    outlive their request there.
    """
    import uvicorn

    from trace_http.logs import redact_secrets_in_logs

    if settings.log.level != "debug":
        # The SDK logs every stateless request at INFO ("Terminating session: None").
        logging.getLogger("mcp.server.streamable_http").setLevel(logging.WARNING)
    proxies = trusted_proxies(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=settings.log.level,
        lifespan="on",
        server_header=False,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        access_log=settings.log.level == "debug",
    )
    redact_secrets_in_logs()
    return config


def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Run the server with uvicorn until interrupted (``trace serve``)."""
    import uvicorn

    host = host or settings.server.host
    port = port or settings.server.port

    async def main() -> None:
        async with open_app(settings, host=host, port=port) as app:
            config = server_config(app, settings, host=host, port=port)
            await uvicorn.Server(config).serve()

    asyncio.run(main())
