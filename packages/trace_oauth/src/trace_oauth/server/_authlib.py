"""authlib's side: our models (client, code, token, user, request) and grants on its classes.

authlib calls these synchronously in a worker thread; each storage hook hops back
to the event loop through ``AuthorizationService._sync``.
"""

from __future__ import annotations

import hmac
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, JsonRequest, OAuth2Request
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

from trace_core.credentials import AuthorizationCode, OAuthClient, OAuthToken
from trace_core.model import Scope
from trace_oauth.clients import known_scopes, redirect_uri_matches, shown
from trace_oauth.server._http import JSON_HEADERS, OAuthRequest, OAuthResponse
from trace_oauth.tokens import SecretHasher, new_secret

if TYPE_CHECKING:
    from trace_oauth.server._service import AuthorizationService


class InvalidTargetError(OAuth2Error):
    """RFC 8707: the requested resource is not one this server issues tokens for."""

    error = "invalid_target"


class AuthlibClient(ClientMixin):
    """A stored client as authlib's client model."""

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


class AuthlibCode:
    """A stored authorization code as authlib's code model."""

    def __init__(self, record: AuthorizationCode) -> None:
        self.record = record
        self.code_challenge = record.code_challenge
        self.code_challenge_method = record.code_challenge_method

    def get_redirect_uri(self) -> str | None:
        return self.record.redirect_uri or None

    def get_scope(self) -> str:
        return self.record.scope.value


class AuthlibToken:
    """A stored token as authlib's token model (refresh and revocation)."""

    def __init__(self, record: OAuthToken) -> None:
        self.record = record

    def check_client(self, client: AuthlibClient) -> bool:
        return self.record.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.record.scope.value


class AuthlibUser:
    """The account a grant is for and the scope it grants."""

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


class AuthlibRequest(OAuth2Request):
    """An :class:`OAuthRequest` as authlib's request, its URI on the issuer's host."""

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


class _S256Only(CodeChallenge):
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


class _Issuer(IssuerParameter):
    def __init__(self, issuer: str) -> None:
        self._issuer = issuer

    def get_issuer(self) -> str:
        return self._issuer


class AuthlibServer(AuthorizationServer):
    """authlib's authorization server with our grants, hooks and extensions."""

    def __init__(self, service: AuthorizationService) -> None:
        super().__init__(scopes_supported=list(known_scopes("read full")))
        self.service = service
        self.register_token_generator("default", service._generate_token)
        self.register_grant(_CodeGrant, [_S256Only(required=True), _ResourceIndicator(service)])
        self.register_grant(_RefreshGrant)
        self.register_endpoint(_Revocation)
        self.register_extension(_Issuer(service.config.issuer))

    def query_client(self, client_id: str) -> AuthlibClient | None:
        return self.service._sync(self.service._client_for_protocol, client_id)

    def get_authorization_grant(self, request: AuthlibRequest) -> _CodeGrant:
        if _CodeGrant.check_authorization_endpoint(request):
            grant: _CodeGrant = super().get_authorization_grant(request)
            return grant
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

    def save_token(self, token: dict[str, Any], request: AuthlibRequest) -> None:
        self.service._sync(self.service._save_code_token, token, request)

    def create_oauth2_request(self, request: OAuthRequest | OAuth2Request) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return AuthlibRequest(request, self.service.config.issuer)

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
        code: AuthlibCode = grant.request.authorization_code
        grant.request.resource = (
            self.service.resolve_resource(values) if values else code.record.resource
        )


class _CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    @staticmethod
    def validate_authorization_redirect_uri(request: AuthlibRequest, client: AuthlibClient) -> str:
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

    def save_authorization_code(self, code: str, request: AuthlibRequest) -> None:
        service: AuthorizationService = self.server.service
        service._sync(service._save_code, code, request)

    def query_authorization_code(self, code: str, client: AuthlibClient) -> AuthlibCode | None:
        service: AuthorizationService = self.server.service
        return service._sync(service._consume_code, code, client)

    def delete_authorization_code(self, authorization_code: AuthlibCode) -> None:
        # Already spent atomically in query_authorization_code.
        return None

    def authenticate_user(self, authorization_code: AuthlibCode) -> AuthlibUser | None:
        service: AuthorizationService = self.server.service
        record = authorization_code.record
        return service._sync(service._active_user, record.account_id, record.scope)


class _RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> AuthlibToken | None:
        service: AuthorizationService = self.server.service
        return service._sync(service._find_refresh, refresh_token)

    def authenticate_user(self, refresh_token: AuthlibToken) -> AuthlibUser | None:
        service: AuthorizationService = self.server.service
        record = refresh_token.record
        return service._sync(service._active_user, record.account_id, record.scope)

    def _validate_token_scope(self, token: AuthlibToken) -> None:
        # A refresh may narrow full to read, never widen; unknown scopes are ignored.
        requested = known_scopes(self.request.payload.scope)
        granted = token.record.scope
        if any(not granted.includes(Scope(s)) for s in requested):
            raise InvalidScopeError("the refreshed scope must be within the original grant")

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        service: AuthorizationService = self.server.service
        old: AuthlibToken = self.request.refresh_token
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


class _Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> AuthlibToken | None:
        service: AuthorizationService = self.server.service
        return service._sync(service._find_any_token, token_string)

    def revoke_token(self, token: AuthlibToken, request: Any) -> None:
        service: AuthorizationService = self.server.service
        service._sync(service._revoke_family, token.record.family_id)
