"""The composition root: settings in, one wired :class:`~trace_http.runtime.Runtime` out.

This is the only place that reads :class:`~trace_http.settings.Settings`; which
adapter implements which port is its neighbour :mod:`trace_http.adapters`. Every part can be
passed in instead (tests pass in-memory ones; an embedding application passes
its own), in the style of cosmicpython's ``bootstrap``::

    async with open_runtime(settings) as runtime:            # from configuration
        app = create_app(runtime)
    runtime = await build_runtime(settings, storage=InMemoryStorage(),
                                  blobs=InMemoryBlobStore())  # fakes, no database

The web app, the MCP stdio server and every ``trace`` command take the
``Runtime`` and nothing else. :func:`build_trace` / :func:`open_trace` build the
facade alone (benchmarks, scripts).

Adapter packages are imported lazily, only when the settings pick them, so a
deployment without Meilisearch never imports its client; the parts a command
may not need (OAuth, signer, limiter) are built on first use
(:class:`~trace_http.runtime.Builders`).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trace_http.adapters import cursor_key, make_blobs, make_search, make_storage, migrate
from trace_http.probes import masked_url, probes_for_storage
from trace_http.runtime import (
    Builders,
    Job,
    Options,
    Runtime,
    SignUp,
    search_job,
    trash_upkeep_job,
)
from trace_http.settings import Settings, load_settings

if TYPE_CHECKING:
    from trace_core.backup import BackupService
    from trace_core.credentials import CredentialStore
    from trace_core.model import Account, Principal
    from trace_core.ports import Authenticator, BlobStore, Clock, SearchIndex, Storage
    from trace_core.service import Trace
    from trace_http.web.ratelimit import RateLimiter
    from trace_mcp import AttachmentUrlSigner
    from trace_oauth import (
        ApiKeyService,
        AuthorizationService,
        OAuthConfig,
        SecretHasher,
        WebSessions,
    )
    from trace_oauth.oidc import OidcProvider
    from trace_sql import SqlStorage

__all__ = [
    "build_runtime",
    "build_trace",
    "cursor_key",
    "is_loopback",
    "make_blobs",
    "make_search",
    "make_storage",
    "migrate",
    "oauth_config",
    "open_runtime",
    "open_trace",
    "public_url_for",
    "runtime_for",
    "session_secret",
]

logger = logging.getLogger("trace_http")


async def build_trace(
    settings: Settings,
    *,
    storage: Storage | None = None,
    blobs: BlobStore | None = None,
    search: SearchIndex | None = None,
    clock: Clock | None = None,
    run_migrations: bool | None = None,
    cursor_secret: bytes | None = None,
) -> Trace:
    """Build the Trace facade with adapters picked by ``settings``; any can be overridden.

    Args:
        settings: the deployment's settings.
        storage: use this storage instead of the configured database.
        blobs: use this blob store instead of the configured one.
        search: use this search index instead of the configured one.
        clock: use this clock instead of the system clock.
        run_migrations: upgrade the schema first; default
            ``settings.storage.migrate_on_start`` when the storage comes from
            the settings, never for a storage passed in.
        cursor_secret: sign page cursors with this key instead of
            :func:`cursor_key`'s.

    Returns:
        The facade. Close its storage and blob store when done (or use :func:`open_trace`).

    """
    from trace_core.service import Limits, Trace

    owned: SqlStorage | None = None
    owned_blobs: BlobStore | None = None
    if storage is None:
        owned = make_storage(settings)
        storage = owned
    try:
        if owned is not None:
            if settings.storage.migrate_on_start if run_migrations is None else run_migrations:
                await owned.migrate()
        elif run_migrations:
            await migrate(settings)
        if blobs is None:
            blobs = owned_blobs = make_blobs(settings)
        if search is None:
            search = make_search(settings, storage)
        key = cursor_secret if cursor_secret is not None else cursor_key(settings)
    except BaseException:
        # A storage or blob store we opened must not leak its connections when setup fails.
        if owned is not None:
            await owned.close()
        if owned_blobs is not None:
            await owned_blobs.close()
        raise
    limits = Limits(
        trash_retention_days=settings.storage.trash_retention_days,
        max_attachment_bytes=settings.storage.max_attachment_bytes,
    )
    return Trace(
        storage=storage, blobs=blobs, search=search, clock=clock, limits=limits, cursor_key=key
    )


@asynccontextmanager
async def open_trace(
    settings: Settings,
    *,
    storage: Storage | None = None,
    blobs: BlobStore | None = None,
    search: SearchIndex | None = None,
    clock: Clock | None = None,
    run_migrations: bool | None = None,
    cursor_secret: bytes | None = None,
) -> AsyncIterator[Trace]:
    """Build the facade as :func:`build_trace` does, and close what it opened on exit."""
    owns_storage, owns_blobs = storage is None, blobs is None
    trace = await build_trace(
        settings,
        storage=storage,
        blobs=blobs,
        search=search,
        clock=clock,
        run_migrations=run_migrations,
        cursor_secret=cursor_secret,
    )
    try:
        yield trace
    finally:
        if owns_blobs:
            await trace.blobs.close()
        if owns_storage:
            await trace.storage.close()


# --- values read from the settings -------------------------------------------------


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


def _trusted_proxies(settings: Settings) -> tuple[str, ...]:
    # Networks are normalised (10.0.0.1/8 -> 10.0.0.0/8): uvicorn would otherwise
    # take a network with host bits set for a literal and never match it.
    return tuple(
        str(ipaddress.ip_network(proxy, strict=False)) if "/" in proxy else proxy
        for proxy in settings.server.trusted_proxies
    )


def options_for(settings: Settings, *, host: str | None = None, port: int | None = None) -> Options:
    """Return the plain values the transports need, for serving on ``host:port``."""
    host = host or settings.server.host
    port = port or settings.server.port
    return Options(
        public_url=public_url_for(settings, host, port),
        host=host,
        port=port,
        log_level=settings.log.level,
        trusted_proxies=_trusted_proxies(settings),
        allowed_hosts=tuple(settings.mcp.allowed_hosts),
        allowed_origins=tuple(settings.mcp.allowed_origins),
        max_response_chars=settings.mcp.max_response_chars,
        data_dir=str(settings.storage.data_path.absolute()),
        database=masked_url(settings.storage.url),
        log_format=settings.log.format,
        shutdown_timeout_seconds=settings.server.shutdown_timeout_seconds,
        metrics=settings.metrics.enabled,
        metrics_host=settings.metrics.host,
        metrics_port=settings.metrics.port,
        metrics_on_public_port=settings.metrics.on_public_port,
    )


def oauth_config(settings: Settings, public_url: str) -> OAuthConfig:
    """Return the authorization server's configuration from the ``auth`` settings."""
    from trace_oauth import OAuthConfig

    auth = settings.auth
    return OAuthConfig(
        issuer=public_url,
        access_token_ttl=timedelta(seconds=auth.access_token_ttl_seconds),
        refresh_token_ttl=timedelta(seconds=auth.refresh_token_ttl_seconds),
        refresh_grace=timedelta(seconds=auth.refresh_grace_seconds),
        integrations_require_plan=auth.integrations_require_plan,
        plans_with_integrations=frozenset(auth.plans_with_integrations) or None,
        hash_key=auth.credential_hash_key,
        registration_limit=auth.registrations_per_hour,
        login_attempt_limit=auth.login_attempts_per_15_minutes,
        unused_client_ttl=timedelta(seconds=auth.unused_client_ttl_seconds),
        cimd_enabled=auth.client_metadata_documents,
        cimd_allow_private_addresses=auth.cimd_allow_private_addresses,
    )


def _secret(configured: str | None, settings: Settings, file_name: str) -> bytes:
    from trace_core.keys import load_or_create_secret

    if configured:
        return configured.encode()
    return load_or_create_secret(settings.storage.data_path / file_name)


def session_secret(settings: Settings) -> bytes:
    """Return the sign-in cookie key: configured, or generated once into the data directory."""
    return _secret(settings.auth.session_secret, settings, "session.key")


def attachment_url_secret(settings: Settings) -> bytes:
    """Return the attachment-URL key: configured, or generated once into the data directory."""
    return _secret(settings.mcp.attachment_url_secret, settings, "attachment-url.key")


# --- the parts built on first use ----------------------------------------------------


def _builders(settings: Settings, *, owns_database: bool, **given: Any) -> Builders:
    """Return how each lazily built part is made: the one given, else from ``settings``."""

    def hasher(rt: Runtime) -> SecretHasher:
        from trace_oauth import SecretHasher

        return SecretHasher(settings.auth.credential_hash_key)

    def authenticator(rt: Runtime) -> Authenticator:
        from trace_oauth import BearerAuthenticator

        return BearerAuthenticator(
            storage=rt.trace.storage,
            credentials=rt.credentials,
            config=oauth_config(settings, rt.public_url),
            clock=rt.clock,
            hasher=rt.hasher,
        )

    def signer(rt: Runtime) -> AttachmentUrlSigner:
        from trace_mcp import AttachmentUrlSigner

        return AttachmentUrlSigner(
            attachment_url_secret(settings),
            rt.public_url,
            ttl_seconds=settings.mcp.attachment_url_ttl_seconds,
        )

    def limiter(rt: Runtime) -> RateLimiter:
        from trace_http.web.ratelimit import SharedWindowLimiter, TokenBucketLimiter

        mcp = settings.mcp
        shared = mcp.rate_limit_shared
        if shared is None:
            shared = not settings.storage.is_sqlite
        if shared:
            return SharedWindowLimiter(
                rt.credentials,
                burst=mcp.rate_limit_burst,
                rate=mcp.rate_limit_per_second,
                other_multiplier=mcp.rate_limit_other_multiplier,
            )
        return TokenBucketLimiter(
            burst=mcp.rate_limit_burst,
            rate=mcp.rate_limit_per_second,
            other_multiplier=mcp.rate_limit_other_multiplier,
        )

    def api_keys(rt: Runtime) -> ApiKeyService:
        from trace_oauth import ApiKeyService

        return ApiKeyService(rt.credentials, rt.clock, rt.hasher)

    def oauth(rt: Runtime) -> AuthorizationService:
        from trace_oauth import AuthorizationService

        return AuthorizationService(
            config=oauth_config(settings, rt.public_url),
            credentials=rt.credentials,
            storage=rt.trace.storage,
            clock=rt.clock,
            hasher=rt.hasher,
        )

    def sessions_key(rt: Runtime) -> bytes:
        return session_secret(settings)

    def web_sessions(rt: Runtime) -> WebSessions:
        from trace_oauth import WebSessions

        return WebSessions(
            rt.credentials,
            rt.clock,
            rt.hasher,
            rt.session_secret,
            ttl=timedelta(hours=settings.auth.session_idle_hours),
            max_age=timedelta(days=settings.auth.session_max_days),
        )

    def signup(rt: Runtime) -> SignUp | None:
        if not settings.auth.open_signup:
            return None

        async def create(email: str, password: str, name: str | None) -> Account:
            password_hash = await rt.oauth.passwords.hash(password)
            return await rt.trace.create_account(email, name=name, password_hash=password_hash)

        return create

    def oidc(rt: Runtime) -> OidcProvider | None:
        auth = settings.auth
        if not (auth.oidc_issuer and auth.oidc_client_id and auth.oidc_client_secret):
            return None
        from trace_oauth.oidc import OidcProvider

        return OidcProvider(
            issuer=auth.oidc_issuer,
            client_id=auth.oidc_client_id,
            client_secret=auth.oidc_client_secret,
            redirect_uri=f"{rt.public_url}/authorize/oidc/callback",
            name=auth.oidc_name,
        )

    def backups(rt: Runtime) -> BackupService:
        from trace_http.backups import backup_service

        return backup_service(settings, rt.trace, owns_database=owns_database)

    made: dict[str, Any] = {
        "hasher": hasher,
        "authenticator": authenticator,
        "signer": signer,
        "limiter": limiter,
        "api_keys": api_keys,
        "oauth": oauth,
        "session_secret": sessions_key,
        "web_sessions": web_sessions,
        "signup": signup,
        "oidc": oidc,
        "backups": backups,
    }
    for name, part in given.items():
        if part is not None:
            made[name] = lambda _rt, part=part: part
    return Builders(**made)


def _credentials_for(storage: Storage) -> CredentialStore:
    """Return the credential store that lives beside ``storage``."""
    from trace_sql import SqlStorage

    if isinstance(storage, SqlStorage):
        from trace_sql.credentials import SqlCredentialStore

        return SqlCredentialStore(storage)
    # A storage passed in that is not SQL (tests, embedding): credentials in memory too.
    from trace_core.testing.memory_credentials import InMemoryCredentialStore

    return InMemoryCredentialStore()


def _schema_upgrade(settings: Settings, owned: bool) -> Callable[[], Awaitable[list[str]]]:
    """Return ``trace migrate``'s work: only the database the settings name is ours to migrate."""

    async def upgrade() -> list[str]:
        return await migrate(settings) if owned else []

    return upgrade


async def _test_principal(trace: Trace, email: str | None) -> Principal:
    from trace_core.errors import NotFoundError
    from trace_core.model import Principal, Scope

    email = email or "test@localhost.localdomain"
    try:
        account = await trace.get_account_by_email(email)
    except NotFoundError:
        account = await trace.create_account(email)
    return Principal(
        account_id=account.account_id,
        scopes=frozenset({Scope.FULL}),
        actor="tests (auth disabled)",
        via="system",
    )


def runtime_for(
    settings: Settings,
    *,
    trace: Trace,
    host: str | None = None,
    port: int | None = None,
    credentials: CredentialStore | None = None,
    hasher: SecretHasher | None = None,
    authenticator: Authenticator | None = None,
    signer: AttachmentUrlSigner | None = None,
    limiter: RateLimiter | None = None,
    api_keys: ApiKeyService | None = None,
    oauth: AuthorizationService | None = None,
    session_secret: bytes | None = None,
    web_sessions: WebSessions | None = None,
    signup: SignUp | None = None,
    oidc: OidcProvider | None = None,
    test_principal: Principal | None = None,
    background: Sequence[Job] | None = None,
    owns_database: bool = False,
) -> Runtime:
    """Wire the runtime around a facade that is already built (tests, embedding).

    Every part not given is made from ``settings`` (the ones a command may not
    need on first use). :func:`build_runtime` builds the facade first and ends here.

    Args:
        settings: the deployment's settings.
        trace: the facade.
        host: the address served (default ``server.host``), for the public URL.
        port: the port served (default ``server.port``).
        credentials: use this credential store (default: the SQL one beside the
            facade's storage; in memory for a storage that is not SQL).
        hasher: hash secrets at rest with this.
        authenticator: check bearer credentials with this.
        signer: sign attachment URLs with this.
        limiter: rate-limit the MCP endpoint with this.
        api_keys: manage API keys with this.
        oauth: use this authorization service.
        session_secret: sign the pages' sign-in cookie with this key.
        web_sessions: keep the pages' sign-in sessions with this.
        signup: the open sign-up (default: per ``auth.open_signup``).
        oidc: the OpenID Connect provider (default: per ``auth.oidc_*``).
        test_principal: serve MCP without authentication as this principal.
        background: the server's background jobs (default: search start-up and
            worker, trash upkeep every ``storage.maintenance_interval_seconds``).
        owns_database: the facade's storage is the database the settings name
            (``trace migrate`` upgrades it).

    """
    if background is None:
        background = (
            search_job(trace.search),
            trash_upkeep_job(trace, settings.storage.maintenance_interval_seconds),
        )
    return Runtime(
        trace=trace,
        credentials=_credentials_for(trace.storage) if credentials is None else credentials,
        options=options_for(settings, host=host, port=port),
        background=tuple(background),
        test_principal=test_principal,
        migrate=_schema_upgrade(settings, owns_database),
        probes=probes_for_storage(trace),
        build=_builders(
            settings,
            owns_database=owns_database,
            hasher=hasher,
            authenticator=authenticator,
            signer=signer,
            limiter=limiter,
            api_keys=api_keys,
            oauth=oauth,
            session_secret=session_secret,
            web_sessions=web_sessions,
            signup=signup,
            oidc=oidc,
        ),
    )


async def build_runtime(
    settings: Settings | None = None,
    *,
    config: Path | None = None,
    serving: bool = False,
    host: str | None = None,
    port: int | None = None,
    run_migrations: bool | None = None,
    trace: Trace | None = None,
    storage: Storage | None = None,
    blobs: BlobStore | None = None,
    search: SearchIndex | None = None,
    clock: Clock | None = None,
    cursor_secret: bytes | None = None,
    test_principal: Principal | None = None,
    **parts: Any,
) -> Runtime:
    """Build every wired part of Trace from ``settings``; any part can be given instead.

    Args:
        settings: the deployment's settings (default: loaded from ``config``
            and the environment).
        config: the TOML file to load when no ``settings`` are given.
        serving: build for ``trace serve``: refuse ``mcp.disable_auth_for_tests``
            on a public address (before anything is opened) and resolve its test user.
        host: the address served (default ``server.host``), for the public URL.
        port: the port served (default ``server.port``).
        run_migrations: upgrade the schema first (see :func:`build_trace`).
        trace: use this facade (then ``storage`` … ``cursor_secret`` are not used).
        storage: use this storage instead of the configured database.
        blobs: use this blob store instead of the configured one.
        search: use this search index instead of the configured one.
        clock: use this clock instead of the system clock.
        cursor_secret: sign page cursors with this key.
        test_principal: serve MCP without authentication as this principal.
        parts: any other part :func:`runtime_for` takes (``credentials=``,
            ``authenticator=``, ``oauth=``, ``background=`` ...).

    Returns:
        The runtime. When its storage or blob store came from the settings, close
        them when done (``await runtime.trace.storage.close()``,
        ``await runtime.trace.blobs.close()``), or use :func:`open_runtime`.

    Raises:
        InvalidInputError: a bad setting, or ``mcp.disable_auth_for_tests`` on a
            non-loopback address while ``serving``.

    """
    from trace_core.errors import InvalidInputError

    if settings is None:
        settings = load_settings(config)
    test_mode = serving and settings.mcp.disable_auth_for_tests and test_principal is None
    served_on = host or settings.server.host
    if test_mode and not is_loopback(served_on):
        raise InvalidInputError(
            "mcp.disable_auth_for_tests",
            f"refusing to serve without authentication on {served_on}: only on a loopback address",
        )
    owned = trace is None and storage is None
    owns_blobs = trace is None and blobs is None
    if trace is None:
        trace = await build_trace(
            settings,
            storage=storage,
            blobs=blobs,
            search=search,
            clock=clock,
            run_migrations=run_migrations,
            cursor_secret=cursor_secret,
        )
    try:
        if test_mode:
            test_principal = await _test_principal(trace, settings.mcp.test_user)
            logger.warning("MCP authentication is DISABLED (tests only) on %s", served_on)
        return runtime_for(
            settings,
            trace=trace,
            host=host,
            port=port,
            test_principal=test_principal,
            owns_database=owned,
            **parts,
        )
    except BaseException:
        if owns_blobs:
            await trace.blobs.close()
        if owned:
            await trace.storage.close()
        raise


@asynccontextmanager
async def open_runtime(settings: Settings | None = None, **parts: Any) -> AsyncIterator[Runtime]:
    """Build the runtime as :func:`build_runtime` does; close what it opened on exit."""
    owned = parts.get("trace") is None and parts.get("storage") is None
    owns_blobs = parts.get("trace") is None and parts.get("blobs") is None
    runtime = await build_runtime(settings, **parts)
    try:
        yield runtime
    finally:
        if owns_blobs:
            await runtime.trace.blobs.close()
        if owned:
            await runtime.trace.storage.close()
