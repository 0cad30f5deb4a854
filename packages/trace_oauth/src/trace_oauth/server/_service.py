"""``AuthorizationService``: the authorization server's use cases, called by the web layer."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.from_thread
import anyio.to_thread
import msgspec
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error

from trace_core.credentials import (
    AuthorizationCode,
    CodeStatus,
    CredentialStore,
    OAuthClient,
    OAuthToken,
    RotationStatus,
)
from trace_core.errors import AuthenticationError, RateLimitedError
from trace_core.model import Account, Scope
from trace_core.ports import Clock, Storage
from trace_oauth.authenticator import check_plan
from trace_oauth.clients import (
    CimdError,
    CimdFetcher,
    ClientMetadataError,
    client_from_metadata,
    decode_client_metadata,
    is_cimd_client_id,
    known_scopes,
    registration_response,
)
from trace_oauth.config import OAuthConfig
from trace_oauth.passwords import PasswordHashing, shared_password_hashing
from trace_oauth.server._authlib import (
    CLIENT_AUTH_METHODS,
    AuthlibClient,
    AuthlibCode,
    AuthlibRequest,
    AuthlibServer,
    AuthlibToken,
    AuthlibUser,
    InvalidTargetError,
)
from trace_oauth.server._http import (
    JSON_HEADERS,
    AuthorizationPageError,
    AuthorizationPrompt,
    OAuthRequest,
    OAuthResponse,
    json_error,
    rate_limited,
    unknown_client_is_401,
)
from trace_oauth.tokens import (
    ACCESS_TOKEN_PREFIX,
    CLIENT_SECRET_PREFIX,
    REFRESH_TOKEN_PREFIX,
    SecretHasher,
    new_secret,
)

T = TypeVar("T")

_HOUR = timedelta(hours=1)
_CLEANUP_EVERY = timedelta(minutes=10)
_LOGIN_WINDOW = timedelta(minutes=15)


def _host_of(uri: str) -> str:
    """Return the host (and port) a person should see for a redirect URI, never user info."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


class AuthorizationService:
    """The authorization server's use cases, called by the web layer."""

    def __init__(
        self,
        *,
        config: OAuthConfig,
        credentials: CredentialStore,
        storage: Storage,
        clock: Clock,
        hasher: SecretHasher | None = None,
        cimd: CimdFetcher | None = None,
        passwords: PasswordHashing | None = None,
    ) -> None:
        self.config = config
        self.credentials = credentials
        self.storage = storage
        self.clock = clock
        self.hasher = hasher or SecretHasher(config.hash_key)
        self.cimd = cimd or CimdFetcher(
            allow_private=config.cimd_allow_private_addresses,
            timeout=config.cimd_timeout,
            max_bytes=config.cimd_max_bytes,
        )
        self.passwords = passwords or shared_password_hashing()
        self._server = AuthlibServer(self)
        # authlib logs issued tokens in plain text at DEBUG ("Issue token %r"):
        # never let them reach the log, whatever level the operator picks.
        authlib_logger = logging.getLogger("authlib")
        if authlib_logger.getEffectiveLevel() < logging.INFO:
            authlib_logger.setLevel(logging.INFO)
        self._next_cleanup: datetime | None = None

    # --- metadata -------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """Return the RFC 8414 authorization server metadata document."""
        issuer = self.config.issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "registration_endpoint": f"{issuer}/register",
            "revocation_endpoint": f"{issuer}/revoke",
            "scopes_supported": ["read", "full"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "authorization_response_iss_parameter_supported": True,
            "client_id_metadata_document_supported": self.config.cimd_enabled,
        }

    def resolve_resource(self, values: Sequence[str]) -> str:
        """Return the resource a code or token is for (RFC 8707).

        Raises:
            InvalidTargetError: more than one resource, or one that is not this server.

        """
        if not values:
            return self.config.issuer
        if len(values) > 1:
            raise InvalidTargetError("only one resource may be requested")
        value = values[0]
        parts = urlsplit(value)
        normalized = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        if parts.query or parts.fragment or normalized not in self.config.resources:
            raise InvalidTargetError(
                f"tokens are issued only for {' or '.join(sorted(self.config.resources))}"
            )
        return normalized

    # --- registration (RFC 7591) ---------------------------------------------------------

    async def register(self, request: OAuthRequest) -> OAuthResponse:
        """Register a client; 201 with its ``client_id`` (and a secret only if confidential)."""
        now = self.clock.now()
        retry = await self.credentials.hit_rate_limit(
            f"register:{request.client_ip or 'unknown'}",
            now=now,
            window=_HOUR,
            limit=self.config.registration_limit,
        )
        if retry is not None:
            return rate_limited(retry)
        await self._maybe_cleanup(now)
        try:
            data = decode_client_metadata(request.body)
            method = data.get("token_endpoint_auth_method") or "none"
            secret = new_secret(CLIENT_SECRET_PREFIX) if method != "none" else None
            client = client_from_metadata(
                data,
                client_id=str(uuid.uuid4()),
                now=now,
                client_secret_hash=self.hasher.hash(secret) if secret else None,
            )
        except ClientMetadataError as exc:
            return json_error(exc.status, exc.error, exc.message)
        await self.credentials.save_client(client)
        return OAuthResponse(201, registration_response(client, client_secret=secret), JSON_HEADERS)

    # --- authorization endpoint ------------------------------------------------------

    async def prepare_authorization(
        self, params: Sequence[tuple[str, str]]
    ) -> AuthorizationPrompt | OAuthResponse:
        """Validate an authorization request before showing login and consent.

        Returns:
            The prompt to render, or a redirect carrying an error back to the
            (validated) redirect URI.

        Raises:
            AuthorizationPageError: unknown client or unregistered redirect URI:
                show an error page, never redirect.

        """
        request = OAuthRequest(method="GET", path="/authorize", query=list(params))
        return await self._in_thread(self._prepare_sync, request)

    def _prepare_sync(self, request: OAuthRequest) -> AuthorizationPrompt | OAuthResponse:
        oauth_request = AuthlibRequest(request, self.config.issuer)
        try:
            grant = self._server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return self._authorization_error(oauth_request, error)
        client: AuthlibClient = grant.client
        redirect_uri: str = grant.redirect_uri
        requested = known_scopes(oauth_request.payload.scope)
        return AuthorizationPrompt(
            client_id=client.get_client_id(),
            client_name=client.record.client_name,
            redirect_uri=redirect_uri,
            redirect_host=_host_of(redirect_uri),
            requested_scope=Scope.FULL if "full" in requested else Scope.READ,
            resource=oauth_request.resource,
            client_uri=client.record.extra.get("client_uri"),
        )

    async def finish_authorization(
        self,
        params: Sequence[tuple[str, str]],
        *,
        account_id: uuid.UUID | None,
        scope: Scope | None,
    ) -> OAuthResponse:
        """Answer the authorization request: a code if the person approved, else access_denied.

        ``params`` are the original authorization request parameters (carried
        through the login and consent forms). ``account_id`` None means denied.

        Raises:
            AuthorizationPageError: as for :meth:`prepare_authorization`.

        """
        request = OAuthRequest(method="GET", path="/authorize", query=list(params))
        user = AuthlibUser(account_id, scope or Scope.READ) if account_id is not None else None
        return await self._in_thread(self._finish_sync, request, user)

    def _finish_sync(self, request: OAuthRequest, user: AuthlibUser | None) -> OAuthResponse:
        oauth_request = AuthlibRequest(request, self.config.issuer)
        try:
            grant = self._server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return self._authorization_error(oauth_request, error)
        response: OAuthResponse = self._server.create_authorization_response(
            oauth_request, grant_user=user, grant=grant
        )
        return response

    def _authorization_error(self, request: AuthlibRequest, error: OAuth2Error) -> OAuthResponse:
        if not error.redirect_uri:
            description = error.description or error.error
            raise AuthorizationPageError(str(description), error=str(error.error))
        error.state = request.payload.state
        response: OAuthResponse = self._server.handle_error_response(request, error)
        if response.location:
            response.location = add_params_to_uri(response.location, {"iss": self.config.issuer})
        return response

    # --- token and revocation endpoints ---------------------------------------------------

    async def token(self, request: OAuthRequest) -> OAuthResponse:
        """Answer ``POST /token`` (authorization_code and refresh_token grants)."""
        await self._maybe_cleanup(self.clock.now())
        response: OAuthResponse = await self._in_thread(self._server.create_token_response, request)
        return unknown_client_is_401(response)

    async def revoke(self, request: OAuthRequest) -> OAuthResponse:
        """Answer ``POST /revoke`` (RFC 7009): the token's whole grant is revoked."""
        response: OAuthResponse | None = await self._in_thread(
            self._server.create_endpoint_response, "revocation", request
        )
        assert response is not None
        return unknown_client_is_401(response)

    # --- sign-in ----------------------------------------------------------------------

    async def login(
        self,
        email: str,
        password: str,
        *,
        client_ip: str | None,
        for_integrations: bool = True,
    ) -> Account:
        """Check an email and password, rate-limited per address and per email.

        ``for_integrations``: the sign-in is for connecting an app (OAuth), so
        the account's plan must include integrations; False for the person's
        own pages, which need no plan.

        Raises:
            RateLimitedError: too many attempts, or too many password checks
                waiting in the whole process; try again after ``retry_after``.
            AuthenticationError: wrong email or password (the same message either way).
            PlanRequiredError: ``for_integrations`` and the account's plan does
                not include integrations.

        """
        now = self.clock.now()
        email = (email or "").strip().lower()
        # Per email: guessing one person's password. Per address, five times as
        # many: spraying many accounts, without locking out an office behind one NAT.
        limit = self.config.login_attempt_limit
        for bucket, allowed in (
            (f"login:email:{email}", limit),
            (f"login:ip:{client_ip or 'unknown'}", limit * 5),
        ):
            retry = await self.credentials.hit_rate_limit(
                bucket, now=now, window=_LOGIN_WINDOW, limit=allowed
            )
            if retry is not None:
                raise RateLimitedError(retry)
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.get_by_email(email) if email else None
        stored = account.password_hash if account is not None and account.is_active else None
        # In a worker thread, a few at a time; an unknown email checks a dummy hash.
        ok = await self.passwords.verify(stored, password or "")
        if not ok or account is None:
            raise AuthenticationError("the email or password is incorrect")
        if for_integrations:
            check_plan(self.config, account)
        return account

    # --- connected apps ---------------------------------------------------------------

    async def connected_apps(self, account_id: uuid.UUID) -> list[tuple[OAuthClient, OAuthToken]]:
        """Return each client the account has live tokens for, with its newest token."""
        seen: dict[str, tuple[OAuthClient, OAuthToken]] = {}
        for token in await self.credentials.list_tokens(account_id, self.clock.now()):
            if token.client_id in seen:
                continue
            client = await self.credentials.get_client(token.client_id)
            if client is not None:
                seen[token.client_id] = (client, token)
        return list(seen.values())

    async def disconnect(self, account_id: uuid.UUID, client_id: str) -> int:
        """Revoke every token the account granted to ``client_id``."""
        return await self.credentials.revoke_client_tokens(account_id, client_id, self.clock.now())

    async def cleanup(self) -> int:
        """Delete never-used registered clients, expired codes and dead tokens."""
        now = self.clock.now()
        clients = await self.credentials.delete_unused_clients(now - self.config.unused_client_ttl)
        return clients + await self.credentials.delete_expired(now)

    async def _maybe_cleanup(self, now: datetime) -> None:
        # Claude registers a new client per connection: sweep now and then, on
        # the registration and token paths themselves, so no scheduler is needed.
        if self._next_cleanup is not None and now < self._next_cleanup:
            return
        self._next_cleanup = now + _CLEANUP_EVERY
        await self.cleanup()

    # --- plumbing between authlib (sync, in a thread) and the async stores --------------

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(fn, *args))

    @staticmethod
    def _sync(fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        return anyio.from_thread.run(fn, *args)

    async def _client_for_protocol(self, client_id: str) -> AuthlibClient | None:
        record = await self.find_client(client_id)
        return AuthlibClient(record, self.hasher) if record is not None else None

    async def find_client(self, client_id: str) -> OAuthClient | None:
        """Return the client: registered, or fetched from its metadata document (cached)."""
        if not client_id:
            return None
        now = self.clock.now()
        record = await self.credentials.get_client(client_id)
        if not is_cimd_client_id(client_id):
            return record
        if not self.config.cimd_enabled:
            return None
        if record is not None and record.source == "cimd":
            expires = record.metadata_expires_at
            if expires is not None and now < expires:
                return record
        try:
            fetched = await self.cimd.fetch(client_id, now=now)
        except CimdError:
            return None
        if record is not None:
            fetched = msgspec.structs.replace(
                fetched, created_at=record.created_at, last_used_at=record.last_used_at
            )
        await self.credentials.save_client(fetched)
        return fetched

    async def _save_code(self, code: str, request: AuthlibRequest) -> None:
        now = self.clock.now()
        user: AuthlibUser = request.user
        data = request.payload.data
        await self.credentials.add_authorization_code(
            AuthorizationCode(
                code_hash=self.hasher.hash(code),
                client_id=request.client.get_client_id(),
                account_id=user.account_id,
                redirect_uri=data.get("redirect_uri") or "",
                scope=user.scope,
                resource=request.resource,
                code_challenge=data["code_challenge"],
                code_challenge_method=data.get("code_challenge_method", "S256"),
                family_id=uuid.uuid4(),
                created_at=now,
                expires_at=now + self.config.code_ttl,
            )
        )

    async def _consume_code(self, code: str, client: AuthlibClient) -> AuthlibCode | None:
        now = self.clock.now()
        outcome = await self.credentials.consume_authorization_code(self.hasher.hash(code), now)
        record = outcome.code
        if outcome.status is CodeStatus.REUSED and record is not None:
            # A replayed code: whoever holds it may have stolen it. Revoke what it issued.
            await self.credentials.revoke_token_family(record.family_id, now)
            return None
        if record is None or outcome.status is not CodeStatus.CONSUMED:
            return None
        if record.client_id != client.get_client_id() or now >= record.expires_at:
            return None
        return AuthlibCode(record)

    async def _active_user(self, account_id: uuid.UUID, scope: Scope) -> AuthlibUser | None:
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.get(account_id)
        if account is None or not account.is_active:
            return None
        return AuthlibUser(account_id, scope)

    def _generate_token(
        self,
        grant_type: str,
        client: AuthlibClient,
        user: AuthlibUser | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        granted = Scope(scope) if scope in ("read", "full") else Scope.READ
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": new_secret(ACCESS_TOKEN_PREFIX),
            "expires_in": int(self.config.access_token_ttl.total_seconds()),
            # full includes read: say both, so clients comparing strings see either.
            "scope": "read full" if granted is Scope.FULL else "read",
        }
        if include_refresh_token:
            token["refresh_token"] = new_secret(REFRESH_TOKEN_PREFIX)
        return token

    def _record(
        self,
        token: dict[str, Any],
        *,
        account_id: uuid.UUID,
        client_id: str,
        resource: str,
        family_id: uuid.UUID,
    ) -> OAuthToken:
        now = self.clock.now()
        refresh = token.get("refresh_token")
        return OAuthToken(
            token_id=uuid.uuid4(),
            family_id=family_id,
            account_id=account_id,
            client_id=client_id,
            scope=Scope.FULL if "full" in token["scope"].split() else Scope.READ,
            resource=resource,
            access_token_hash=self.hasher.hash(token["access_token"]),
            refresh_token_hash=self.hasher.hash(refresh) if refresh else None,
            issued_at=now,
            access_expires_at=now + self.config.access_token_ttl,
            refresh_expires_at=now + self.config.refresh_token_ttl if refresh else None,
        )

    async def _save_code_token(self, token: dict[str, Any], request: AuthlibRequest) -> None:
        code: AuthlibCode = request.authorization_code
        record = self._record(
            token,
            account_id=code.record.account_id,
            client_id=code.record.client_id,
            resource=request.resource,
            family_id=code.record.family_id,
        )
        await self.credentials.add_token(record)
        await self.credentials.touch_client(record.client_id, record.issued_at)

    async def _find_refresh(self, refresh_token: str) -> AuthlibToken | None:
        record = await self.credentials.get_token_by_refresh_hash(self.hasher.hash(refresh_token))
        if record is None or record.revoked_at is not None:
            return None
        return AuthlibToken(record)

    async def _rotate(self, old: OAuthToken, token: dict[str, Any], resource: str) -> bool:
        assert old.refresh_token_hash is not None
        new = self._record(
            token,
            account_id=old.account_id,
            client_id=old.client_id,
            resource=resource,
            family_id=old.family_id,
        )
        outcome = await self.credentials.rotate_refresh_token(
            old.refresh_token_hash, new, now=new.issued_at, grace=self.config.refresh_grace
        )
        if outcome.status is RotationStatus.ROTATED:
            await self.credentials.touch_client(old.client_id, new.issued_at)
            return True
        return False

    async def _find_any_token(self, secret: str) -> AuthlibToken | None:
        digest = self.hasher.hash(secret)
        record = await self.credentials.get_token_by_access_hash(digest)
        if record is None:
            record = await self.credentials.get_token_by_refresh_hash(digest)
        return AuthlibToken(record) if record is not None else None

    async def _revoke_family(self, family_id: uuid.UUID) -> None:
        await self.credentials.revoke_token_family(family_id, self.clock.now())
