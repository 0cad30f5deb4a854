"""Who is calling ``/api/v1``: a bearer credential, or the web pages' sign-in cookie.

- ``Authorization: Bearer <API key or OAuth access token>``: the same
  authenticator (from the Runtime) and the same read/full scopes as MCP; a bad
  credential answers 401 with the ``WWW-Authenticate`` challenge.
- Otherwise the sign-in cookie of the server's pages: the person's account with
  full scope. Unsafe methods (anything but GET, HEAD, OPTIONS) must then carry
  ``X-CSRF-Token`` (the token the pages hold for the session, the same HMAC the
  OAuth pages' forms send) and, when the browser sends one, an ``Origin`` of this
  server; without them, 403. A bearer request needs no CSRF token: a browser
  never adds that header by itself.

Every authenticated request counts against the credential's rate limit, shared
with MCP (429 with ``Retry-After``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from litestar import Request

from trace_core.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
)
from trace_core.model import Account, Principal, Scope
from trace_core.ports import Authenticator
from trace_http.web.mcp_endpoint import ResourceServer
from trace_http.web.oauth._pages import Pages
from trace_http.web.ratelimit import RateLimiter, limit_work

__all__ = ["CSRF_HEADER", "ApiAuth"]

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiAuth:
    """Turns a request into the :class:`Principal` it acts as (or raises a core error).

    Args:
        authenticator: bearer credentials to principals (None: only ``fixed``).
        limiter: the per-credential rate limit (None: none).
        pages: the pages' cookies and sessions (None: no cookie sign-in).
        resource_server: the public URL bearer tokens must be issued for.
        accounts: looks an account up (a cookie of a deactivated account is refused).
        fixed: answer every request as this principal (``mcp.disable_auth_for_tests``).

    """

    def __init__(
        self,
        *,
        authenticator: Authenticator | None,
        limiter: RateLimiter | None,
        pages: Pages | None,
        resource_server: ResourceServer,
        accounts: Callable[[UUID], Awaitable[Account]] | None = None,
        fixed: Principal | None = None,
    ) -> None:
        self.accounts = accounts
        self.authenticator = authenticator
        self.limiter = limiter
        self.pages = pages
        self.rs = resource_server
        self.fixed = fixed

    async def principal(self, request: Request[Any, Any, Any]) -> Principal:
        """Return the caller, after its rate limit; raise 401/403/429 errors otherwise."""
        if self.fixed is not None:
            return self.fixed
        authorization = request.headers.get("authorization")
        if authorization is not None:
            principal = await self._bearer(authorization)
        else:
            principal = await self._cookie(request)
        # One unit of work, from the same per-key budget as MCP's tool calls.
        await limit_work(self.limiter, principal)
        return principal

    async def _bearer(self, authorization: str) -> Principal:
        kind, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if kind.lower() != "bearer" or not token or self.authenticator is None:
            raise AuthenticationError(
                "send 'Authorization: Bearer <API key or access token>'", field="Authorization"
            )
        try:
            return await self.authenticator.authenticate(token, resource=self.rs.public_url)
        except AuthenticationError:
            raise AuthenticationError(
                "the API key or access token is invalid, expired or revoked",
                field="Authorization",
            ) from None

    async def _cookie(self, request: Request[Any, Any, Any]) -> Principal:
        session = await self.pages.current_session(request) if self.pages is not None else None
        if session is None or self.pages is None:
            raise AuthenticationError(
                "authentication required: send 'Authorization: Bearer <API key or access "
                "token>' or sign in on this server's pages",
                field="Authorization",
            )
        if self.accounts is not None:
            try:
                active = (await self.accounts(session.account_id)).is_active
            except NotFoundError:
                active = False
            if not active:
                raise AuthenticationError("this account is deactivated", field="Authorization")
        if request.method.upper() not in SAFE_METHODS:
            sent_origin = request.headers.get("origin")
            token = request.headers.get(CSRF_HEADER) or ""
            if (
                sent_origin is not None and sent_origin.rstrip("/") != self.pages.own_origin
            ) or not self.pages.sessions.csrf_valid(token, session_id=session.session_id):
                raise PermissionDeniedError(
                    f"a signed-in browser's {request.method} needs the {CSRF_HEADER} header "
                    "of its session, sent from this server's pages",
                    field=CSRF_HEADER,
                )
        return Principal(
            account_id=session.account_id,
            scopes=frozenset({Scope.FULL}),
            actor="web",
            via="web",
            credential_id=None,
        )
