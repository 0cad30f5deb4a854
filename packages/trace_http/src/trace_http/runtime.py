"""What the composition root hands out: one :class:`Runtime` holding every wired part.

:func:`trace_http.bootstrap.build_runtime` builds it from the settings (any part
can be passed in instead); the web app (:func:`trace_http.web.app.create_app`),
the MCP stdio server and every ``trace`` command take a ``Runtime`` and nothing
else. No settings in here: the transports get built objects and plain values
(:class:`Options`).

Parts that a command may never touch (the OAuth service, the attachment-URL
signer, the rate limiter, ...) are built on first use, by the functions the
root put in :class:`Builders`: ``trace user list`` imports neither authlib nor
the MCP SDK and writes no key file it does not need. The background work of a
server (search start-up and its worker, trash upkeep) comes as
:data:`Job` values, async context managers the web app enters for its lifespan.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import msgspec

from trace_core.model import Account

if TYPE_CHECKING:
    from trace_core.backup import BackupService
    from trace_core.credentials import CredentialStore
    from trace_core.model import Principal
    from trace_core.ports import Authenticator, Clock, SearchIndex
    from trace_core.service import Trace
    from trace_http.web.probes import Probes
    from trace_http.web.ratelimit import RateLimiter
    from trace_mcp import AttachmentUrlSigner
    from trace_oauth import ApiKeyService, AuthorizationService, SecretHasher, WebSessions
    from trace_oauth.oidc import OidcProvider

__all__ = [
    "Builders",
    "Job",
    "Options",
    "Runtime",
    "SignUp",
    "run_maintenance_once",
    "search_job",
    "trash_upkeep_job",
]

logger = logging.getLogger("trace.maintenance")

Job = Callable[[], AbstractAsyncContextManager[None]]
"""Background work while a server runs: entered at start-up, left at shutdown."""

SignUp = Callable[[str, str, str | None], Awaitable[Account]]
"""Creates an account from (email, password, name); raises InvalidInputError or ConflictError."""


class Options(msgspec.Struct, frozen=True, kw_only=True):
    """Plain values the transports need, read from the settings by the root.

    Attributes:
        public_url: the origin people and assistants reach the server at (no trailing slash).
        host: the interface ``trace serve`` listens on.
        port: its TCP port.
        log_level: ``debug``, ``info``, ``warning`` or ``error``.
        trusted_proxies: addresses or networks whose ``X-Forwarded-*`` headers count.
        allowed_hosts: extra ``Host`` names the MCP endpoint answers for.
        allowed_origins: extra browser origins allowed to call it.
        max_response_chars: cap on one MCP tool answer.
        data_dir: the data directory in use (absolute), shown when the server starts.
        database: the database URL with its password masked, shown when the server starts.
        log_format: ``text`` or ``json`` (one JSON object per line).
        shutdown_timeout_seconds: how long requests in flight may finish at shutdown.
        metrics: serve Prometheus metrics (``/metrics``).
        metrics_host: the metrics listener's interface.
        metrics_port: the metrics listener's port.
        metrics_on_public_port: serve ``/metrics`` on the public port instead.

    """

    public_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    trusted_proxies: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    max_response_chars: int = 100_000
    data_dir: str | None = None
    database: str | None = None
    log_format: Literal["text", "json"] = "text"
    shutdown_timeout_seconds: int = 30
    metrics: bool = False
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464
    metrics_on_public_port: bool = False


@dataclass(frozen=True, kw_only=True)
class Builders:
    """How the root builds the parts made on first use; each takes the runtime it belongs to."""

    hasher: Callable[[Runtime], SecretHasher]
    authenticator: Callable[[Runtime], Authenticator]
    signer: Callable[[Runtime], AttachmentUrlSigner]
    limiter: Callable[[Runtime], RateLimiter]
    api_keys: Callable[[Runtime], ApiKeyService]
    oauth: Callable[[Runtime], AuthorizationService]
    session_secret: Callable[[Runtime], bytes]
    web_sessions: Callable[[Runtime], WebSessions]
    signup: Callable[[Runtime], SignUp | None]
    oidc: Callable[[Runtime], OidcProvider | None]
    backups: Callable[[Runtime], BackupService]


async def _nothing_to_migrate() -> list[str]:
    return []


@dataclass(frozen=True, kw_only=True, eq=False)
class Runtime:
    """Every wired part of Trace, built once by the composition root.

    Attributes:
        trace: the facade (storage, blobs, search, clock inside).
        credentials: accounts' API keys, OAuth clients and tokens, web sessions.
        options: plain values for the transports.
        background: what a server runs while it is up.
        test_principal: serve MCP without authentication as this principal
            (``mcp.disable_auth_for_tests``; tests and conformance suites only).
        migrate: upgrade the database schema; returns the revisions it is at.
        build: how the parts below are built on first use.
        probes: readiness checks and scrape-time figures for ``/health/ready`` and
            ``/metrics`` (None: the database check through the facade only).

    """

    trace: Trace
    credentials: CredentialStore
    options: Options
    background: tuple[Job, ...] = ()
    test_principal: Principal | None = None
    migrate: Callable[[], Awaitable[list[str]]] = _nothing_to_migrate
    build: Builders = field(repr=False)
    probes: Probes | None = field(default=None, repr=False)

    @property
    def clock(self) -> Clock:
        """The facade's clock."""
        return self.trace.clock

    @property
    def public_url(self) -> str:
        """The server's public origin."""
        return self.options.public_url

    @cached_property
    def hasher(self) -> SecretHasher:
        """Keyed hashing of API keys, tokens and session ids at rest."""
        return self.build.hasher(self)

    @cached_property
    def authenticator(self) -> Authenticator:
        """Bearer credentials (API keys, OAuth access tokens) to principals."""
        return self.build.authenticator(self)

    @cached_property
    def signer(self) -> AttachmentUrlSigner:
        """Signs and verifies attachment download URLs."""
        return self.build.signer(self)

    @cached_property
    def limiter(self) -> RateLimiter:
        """The per-credential rate limit of the MCP endpoint."""
        return self.build.limiter(self)

    @cached_property
    def api_keys(self) -> ApiKeyService:
        """Creates, lists and revokes API keys."""
        return self.build.api_keys(self)

    @cached_property
    def oauth(self) -> AuthorizationService:
        """The OAuth 2.1 authorization server."""
        return self.build.oauth(self)

    @cached_property
    def session_secret(self) -> bytes:
        """The key signing the pages' sign-in cookie (≥ 32 bytes, shared by replicas)."""
        return self.build.session_secret(self)

    @cached_property
    def web_sessions(self) -> WebSessions:
        """Sign-in sessions of the server's pages and their CSRF tokens."""
        return self.build.web_sessions(self)

    @cached_property
    def signup(self) -> SignUp | None:
        """Open sign-up (``auth.open_signup``), or None when it is closed."""
        return self.build.signup(self)

    @cached_property
    def oidc(self) -> OidcProvider | None:
        """Sign-in through an OpenID Connect provider ("Sign in with …"), or None."""
        return self.build.oidc(self)

    @cached_property
    def backups(self) -> BackupService:
        """Writes backups of the database and attachment files (``trace backup``).

        Raises InvalidInputError when the database cannot be backed up this way
        (PostgreSQL: ``pg_dump``).
        """
        return self.build.backups(self)


# --- background jobs ---------------------------------------------------------------


def search_job(index: SearchIndex | None) -> Job:
    """Return the job that starts the search index and runs its background work.

    What starting means is the index's own business
    (:meth:`~trace_core.ports.SearchIndex.start`): the PostgreSQL index applies
    its language; Meilisearch applies its settings, switches its outbox on and
    drains it until shutdown.
    """

    @asynccontextmanager
    async def job() -> AsyncIterator[None]:
        if index is None:
            yield
            return
        await index.start()
        async with index.background():
            yield

    return job


async def run_maintenance_once(trace: Trace) -> int:
    """Purge every entry whose trash retention has run out; return how many were purged."""
    purged = await trace.purge_expired_trash()
    if purged:
        logger.info("purged %d entries from the trash", purged)
    return purged


def trash_upkeep_job(trace: Trace, interval_seconds: float) -> Job:
    """Return the job that purges expired trash every ``interval_seconds`` (0: never).

    Every replica may run it: purging is idempotent (a batch another replica
    already removed deletes nothing), so no leader election is needed. On
    shutdown a round in progress completes first.
    """
    import anyio

    async def loop(stop: anyio.Event) -> None:
        while not stop.is_set():
            # A round in flight is finished, never cancelled: cancelling a query half-way
            # leaves the driver connection to be torn down after the server stopped
            # (aiosqlite's close then holds up the process's exit).
            with anyio.CancelScope(shield=True):
                try:
                    await run_maintenance_once(trace)
                except Exception:
                    # A failed round (database briefly away) must not stop the next one.
                    logger.exception("trash purge failed; retrying in %.0f s", interval_seconds)
            with anyio.move_on_after(interval_seconds):
                await stop.wait()

    @asynccontextmanager
    async def job() -> AsyncIterator[None]:
        if interval_seconds <= 0:
            yield
            return
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(loop, stop)
            try:
                yield
            finally:
                stop.set()

    return job
