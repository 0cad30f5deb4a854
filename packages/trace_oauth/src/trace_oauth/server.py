"""The OAuth 2.1 authorization server on authlib, framework-free.

:class:`AuthorizationService` is what a web framework calls: it takes an
:class:`OAuthRequest` (method, URL, headers, query, form, JSON) and returns an
:class:`OAuthResponse` (status, body, headers). trace_http wraps it in Litestar
routes and renders the login and consent pages.

authlib does the protocol work (authorization-code grant, PKCE, refresh grant,
revocation, client authentication, ``iss`` in authorization responses, error
responses). authlib is synchronous, our stores are async: each authlib call
runs in a worker thread and its storage hooks hop back onto the event loop with
:func:`anyio.from_thread.run`. Token endpoints are not hot paths, so the thread
hop costs nothing that matters.

What we add on top (the MCP and OAuth 2.1 rules authlib leaves to us):
S256-only, mandatory PKCE; RFC 8707 resource indicators bound into codes and
tokens; unknown scopes ignored rather than refused; single-use codes with
replay revoking what the code issued; refresh-token rotation with a grace
window and family revocation on reuse; Client ID Metadata Documents; 401 for
unknown clients at the token endpoint.
"""

from __future__ import annotations

import functools
import hmac
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.from_thread
import anyio.to_thread
import msgspec
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    JsonRequest,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter

from trace_core.credentials import (
    AuthorizationCode,
    CodeStatus,
    CredentialStore,
    OAuthClient,
    OAuthToken,
    RotationStatus,
)
from trace_core.errors import AuthenticationError, RateLimitedError, retry_after_seconds
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
    metadata_too_large,
    redirect_uri_matches,
    registration_response,
    shown,
)
from trace_oauth.config import OAuthConfig
from trace_oauth.passwords import PasswordHashing, shared_password_hashing
from trace_oauth.tokens import (
    ACCESS_TOKEN_PREFIX,
    CLIENT_SECRET_PREFIX,
    REFRESH_TOKEN_PREFIX,
    SecretHasher,
    new_secret,
)

__all__ = [
    "AuthorizationPageError",
    "AuthorizationPrompt",
    "AuthorizationService",
    "OAuthRequest",
    "OAuthResponse",
    "registration_too_large",
]

T = TypeVar("T")

JSON_HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
]


# --- framework-free request and response -------------------------------------------


class OAuthRequest(msgspec.Struct, frozen=True, kw_only=True):
    """An HTTP request as the authorization server needs it.

    ``path`` is the request path; ``query`` and ``form`` keep repeated
    parameters (pairs, in order); ``headers`` names are lower-case; ``body``
    is the raw body where the endpoint reads JSON (registration).
    """

    method: str
    path: str
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    query: list[tuple[str, str]] = msgspec.field(default_factory=list)
    form: list[tuple[str, str]] = msgspec.field(default_factory=list)
    body: bytes = b""
    client_ip: str | None = None


class OAuthResponse:
    """An HTTP response: status, body (a JSON-ready dict or text) and headers."""

    def __init__(
        self, status: int, body: dict[str, Any] | str, headers: Sequence[tuple[str, str]]
    ) -> None:
        self.status = status
        self.body = body
        self.headers = list(headers)

    @property
    def location(self) -> str | None:
        """The ``Location`` header, if any (authlib's ``iss`` extension rewrites it)."""
        return next((v for k, v in self.headers if k.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"]
        self.headers.append(("Location", value))

    def header(self, name: str) -> str | None:
        """Return a header's value, or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def __repr__(self) -> str:
        return f"OAuthResponse({self.status}, {self.body!r})"


class AuthorizationPrompt(msgspec.Struct, frozen=True, kw_only=True):
    """A valid authorization request, ready for the login and consent pages."""

    client_id: str
    client_name: str
    redirect_uri: str
    redirect_host: str
    requested_scope: Scope
    """What to preselect on the consent page: ``full`` only if the client asked for it."""
    resource: str
    client_uri: str | None = None


class AuthorizationPageError(Exception):
    """The request cannot be answered with a redirect (unknown client, bad redirect URI).

    Show ``message`` on an error page; never redirect to an unvalidated URI.
    """

    def __init__(self, message: str, *, error: str = "invalid_request") -> None:
        super().__init__(message)
        self.message = message
        self.error = error


class InvalidTargetError(OAuth2Error):  # type: ignore[misc]
    """RFC 8707: the requested resource is not one this server issues tokens for."""

    error = "invalid_target"


# --- authlib model adapters ---------------------------------------------------------


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, record: OAuthClient, hasher: SecretHasher) -> None:
        self.record = record
        self._hasher = hasher

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.record.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(known_scopes(scope))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri_matches(self.record.redirect_uris, redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        stored = self.record.client_secret_hash
        if not stored:
            return False
        return hmac.compare_digest(stored, self._hasher.hash(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.record.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.record.grant_types


class _Code:
    def __init__(self, record: AuthorizationCode) -> None:
        self.record = record
        self.code_challenge = record.code_challenge
        self.code_challenge_method = record.code_challenge_method

    def get_redirect_uri(self) -> str | None:
        return self.record.redirect_uri or None

    def get_scope(self) -> str:
        return self.record.scope.value


class _Token:
    def __init__(self, record: OAuthToken) -> None:
        self.record = record

    def check_client(self, client: _Client) -> bool:
        return self.record.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.record.scope.value


class _User:
    def __init__(self, account_id: uuid.UUID, scope: Scope) -> None:
        self.account_id = account_id
        self.scope = scope


class _Headers(dict[str, str]):
    """Header lookup that ignores case (authlib asks for ``Authorization``)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in headers.items()})

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, request: OAuthRequest, issuer: str) -> None:
        # authlib refuses plain-http URIs; TLS is the deployment's job (a proxy
        # in front of Trace), and the issuer is what the world sees.
        host = urlsplit(issuer).netloc
        super().__init__(
            request.method, f"https://{host}{request.path}", None, _Headers(request.headers)
        )
        pairs = request.form if request.method == "POST" else request.query
        data: dict[str, str] = {}
        datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            data.setdefault(key, value)
            datalist[key].append(value)
        payload = BasicOAuth2Payload(data)
        payload._datalist = datalist
        self.payload = payload
        self._form = data
        self._args = dict(request.query)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


# --- grants and extensions ------------------------------------------------------------

CLIENT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]


class _S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE is mandatory and only S256 is accepted (OAuth 2.1, MCP)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: Any) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)


class _Issuer(IssuerParameter):  # type: ignore[misc]
    def __init__(self, issuer: str) -> None:
        self._issuer = issuer

    def get_issuer(self) -> str:
        return self._issuer


class _TraceServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, service: AuthorizationService) -> None:
        super().__init__(scopes_supported=list(known_scopes("read full")))
        self.service = service
        self.register_token_generator("default", service._generate_token)
        self.register_grant(_CodeGrant, [_S256Only(required=True), _ResourceIndicator(service)])
        self.register_grant(_RefreshGrant)
        self.register_endpoint(_Revocation)
        self.register_extension(_Issuer(service.config.issuer))

    def query_client(self, client_id: str) -> _Client | None:
        return self.service._sync(self.service._client_for_protocol, client_id)

    def get_authorization_grant(self, request: _Request) -> _CodeGrant:
        if _CodeGrant.check_authorization_endpoint(request):
            return super().get_authorization_grant(request)  # type: ignore[no-any-return]
        # authlib's own version makes the raw response_type the error description.
        # As there: redirect with the error only to a URI validated for a known client.
        redirect_uri = None
        client = self.query_client(request.payload.client_id or "")
        if client is not None:
            requested = request.payload.redirect_uri
            if not requested:
                redirect_uri = client.get_default_redirect_uri()
            elif client.check_redirect_uri(requested):
                redirect_uri = requested
        response_type = request.payload.response_type or ""
        raise UnsupportedResponseTypeError(
            response_type,
            description=f"response_type {shown(response_type)} is not supported: use code",
            redirect_uri=redirect_uri,
        )

    def save_token(self, token: dict[str, Any], request: _Request) -> None:
        self.service._sync(self.service._save_code_token, token, request)

    def create_oauth2_request(self, request: OAuthRequest | OAuth2Request) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return _Request(request, self.service.config.issuer)

    def create_json_request(self, request: OAuthRequest) -> JsonRequest:
        raise NotImplementedError

    def handle_response(
        self, status: int, body: dict[str, Any] | str, headers: Sequence[tuple[str, str]]
    ) -> OAuthResponse:
        return OAuthResponse(status, body, headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def validate_requested_scope(self, scope: str | None) -> None:
        # Real clients ask for scopes we do not have (claudeai, openid,
        # offline_access, "read write"): ignore them instead of failing.
        return None


class _ResourceIndicator:
    """RFC 8707: ``resource`` must name this server; it is bound into the code and token."""

    def __init__(self, service: AuthorizationService) -> None:
        self.service = service

    def __call__(self, grant: AuthorizationCodeGrant) -> None:
        grant.register_hook("after_validate_authorization_request_payload", self.on_authorize)
        grant.register_hook("after_validate_token_request", self.on_token)

    def on_authorize(self, grant: Any, result: Any) -> None:
        values = grant.request.payload.datalist.get("resource", [])
        grant.request.resource = self.service.resolve_resource(values)

    def on_token(self, grant: Any, result: Any) -> None:
        values = [v for v in [grant.request.form.get("resource")] if v]
        code: _Code = grant.request.authorization_code
        grant.request.resource = (
            self.service.resolve_resource(values) if values else code.record.resource
        )


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(request: _Request, client: _Client) -> str:
        # authlib's own version puts the raw URI into the error description.
        uri: str | None = request.payload.redirect_uri
        if uri:
            if not client.check_redirect_uri(uri):
                raise InvalidRequestError(
                    f"the redirect URI {shown(uri)} is not registered for this client"
                )
            return uri
        default = client.get_default_redirect_uri()
        if not default:
            raise InvalidRequestError(
                "redirect_uri is required: this client registered more than one",
                state=request.payload.state,
            )
        return str(default)

    def generate_authorization_code(self) -> str:
        return new_secret()

    def save_authorization_code(self, code: str, request: _Request) -> None:
        service: AuthorizationService = self.server.service
        service._sync(service._save_code, code, request)

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        service: AuthorizationService = self.server.service
        return service._sync(service._consume_code, code, client)

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        # Already spent atomically in query_authorization_code.
        return None

    def authenticate_user(self, authorization_code: _Code) -> _User | None:
        service: AuthorizationService = self.server.service
        record = authorization_code.record
        return service._sync(service._active_user, record.account_id, record.scope)


class _RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> _Token | None:
        service: AuthorizationService = self.server.service
        return service._sync(service._find_refresh, refresh_token)

    def authenticate_user(self, refresh_token: _Token) -> _User | None:
        service: AuthorizationService = self.server.service
        record = refresh_token.record
        return service._sync(service._active_user, record.account_id, record.scope)

    def _validate_token_scope(self, token: _Token) -> None:
        # A refresh may narrow full to read, never widen; unknown scopes are ignored.
        requested = known_scopes(self.request.payload.scope)
        granted = token.record.scope
        if any(not granted.includes(Scope(s)) for s in requested):
            raise InvalidScopeError("the refreshed scope must be within the original grant")

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        service: AuthorizationService = self.server.service
        old: _Token = self.request.refresh_token
        user = self.authenticate_user(old)
        if user is None:
            raise InvalidGrantError("the account behind this grant is not active")
        requested = known_scopes(self.request.payload.scope)
        scope = old.record.scope
        if requested and "full" not in requested:
            scope = Scope.READ
        values = [v for v in [self.request.form.get("resource")] if v]
        resource = service.resolve_resource(values) if values else old.record.resource
        user.scope = scope
        self.request.user = user
        token = self.generate_token(user=user, scope=scope.value, include_refresh_token=True)
        rotated = service._sync(service._rotate, old.record, token, resource)
        if not rotated:
            raise InvalidGrantError("the refresh token is invalid, expired or was already used")
        return 200, token, JSON_HEADERS


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Token | None:
        service: AuthorizationService = self.server.service
        return service._sync(service._find_any_token, token_string)

    def revoke_token(self, token: _Token, request: Any) -> None:
        service: AuthorizationService = self.server.service
        service._sync(service._revoke_family, token.record.family_id)


# --- the service ----------------------------------------------------------------------


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
        self._server = _TraceServer(self)
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
            return _rate_limited(retry)
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
            return _json_error(exc.status, exc.error, exc.message)
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
        oauth_request = _Request(request, self.config.issuer)
        try:
            grant = self._server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return self._authorization_error(oauth_request, error)
        client: _Client = grant.client
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
        user = _User(account_id, scope or Scope.READ) if account_id is not None else None
        return await self._in_thread(self._finish_sync, request, user)

    def _finish_sync(self, request: OAuthRequest, user: _User | None) -> OAuthResponse:
        oauth_request = _Request(request, self.config.issuer)
        try:
            grant = self._server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return self._authorization_error(oauth_request, error)
        response: OAuthResponse = self._server.create_authorization_response(
            oauth_request, grant_user=user, grant=grant
        )
        return response

    def _authorization_error(self, request: _Request, error: OAuth2Error) -> OAuthResponse:
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
        return _unknown_client_is_401(response)

    async def revoke(self, request: OAuthRequest) -> OAuthResponse:
        """Answer ``POST /revoke`` (RFC 7009): the token's whole grant is revoked."""
        response: OAuthResponse | None = await self._in_thread(
            self._server.create_endpoint_response, "revocation", request
        )
        assert response is not None
        return _unknown_client_is_401(response)

    # --- sign-in ----------------------------------------------------------------------

    async def login(self, email: str, password: str, *, client_ip: str | None) -> Account:
        """Check an email and password, rate-limited per address and per email.

        Raises:
            RateLimitedError: too many attempts, or too many password checks
                waiting in the whole process; try again after ``retry_after``.
            AuthenticationError: wrong email or password (the same message either way).
            PlanRequiredError: the account's plan does not include integrations.

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

    async def _client_for_protocol(self, client_id: str) -> _Client | None:
        record = await self.find_client(client_id)
        return _Client(record, self.hasher) if record is not None else None

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

    async def _save_code(self, code: str, request: _Request) -> None:
        now = self.clock.now()
        user: _User = request.user
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

    async def _consume_code(self, code: str, client: _Client) -> _Code | None:
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
        return _Code(record)

    async def _active_user(self, account_id: uuid.UUID, scope: Scope) -> _User | None:
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.get(account_id)
        if account is None or not account.is_active:
            return None
        return _User(account_id, scope)

    def _generate_token(
        self,
        grant_type: str,
        client: _Client,
        user: _User | None = None,
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

    async def _save_code_token(self, token: dict[str, Any], request: _Request) -> None:
        code: _Code = request.authorization_code
        record = self._record(
            token,
            account_id=code.record.account_id,
            client_id=code.record.client_id,
            resource=request.resource,
            family_id=code.record.family_id,
        )
        await self.credentials.add_token(record)
        await self.credentials.touch_client(record.client_id, record.issued_at)

    async def _find_refresh(self, refresh_token: str) -> _Token | None:
        record = await self.credentials.get_token_by_refresh_hash(self.hasher.hash(refresh_token))
        if record is None or record.revoked_at is not None:
            return None
        return _Token(record)

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

    async def _find_any_token(self, secret: str) -> _Token | None:
        digest = self.hasher.hash(secret)
        record = await self.credentials.get_token_by_access_hash(digest)
        if record is None:
            record = await self.credentials.get_token_by_refresh_hash(digest)
        return _Token(record) if record is not None else None

    async def _revoke_family(self, family_id: uuid.UUID) -> None:
        await self.credentials.revoke_token_family(family_id, self.clock.now())


# --- small helpers ---------------------------------------------------------------------

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


def registration_too_large() -> OAuthResponse:
    """Answer a registration whose body is over the limit (the web layer stops reading it)."""
    error = metadata_too_large()
    return _json_error(error.status, error.error, error.message)


def _json_error(status: int, error: str, description: str) -> OAuthResponse:
    return OAuthResponse(status, {"error": error, "error_description": description}, JSON_HEADERS)


def _rate_limited(retry_after: float) -> OAuthResponse:
    seconds = retry_after_seconds(retry_after)
    response = _json_error(429, "rate_limited", f"too many requests; retry after {seconds} s")
    response.headers.append(("Retry-After", str(seconds)))
    return response


def _unknown_client_is_401(response: OAuthResponse) -> OAuthResponse:
    # MCP clients (Claude) re-register when the token endpoint answers 401
    # invalid_client: an unknown or deleted client must get exactly that.
    if isinstance(response.body, dict) and response.body.get("error") == "invalid_client":
        response.status = 401
        if response.header("WWW-Authenticate") is None:
            response.headers.append(("WWW-Authenticate", 'Basic realm="trace"'))
    return response
