"""Optional "Sign in with Google" — any OpenID Connect provider, by issuer URL.

The person is sent to the provider with ``state``, ``nonce`` and PKCE (S256);
the provider sends them back with a code; the code is exchanged for an ID
token, whose signature (the provider's JWKS), issuer, audience, expiry and nonce
are checked. Only a **verified** email is trusted, and it is matched to an
existing Trace account (case-insensitively). Framework-free: trace_http keeps
the pending :class:`OidcPending` in a signed cookie and calls
:meth:`OidcProvider.finish` on the callback.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import msgspec

if TYPE_CHECKING:
    import httpx

__all__ = ["OidcError", "OidcIdentity", "OidcPending", "OidcProvider"]

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class OidcError(Exception):
    """The sign-in with the provider failed; ``message`` is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OidcPending(msgspec.Struct, frozen=True, kw_only=True):
    """What must survive the round trip to the provider (kept in a signed cookie)."""

    state: str
    nonce: str
    verifier: str
    request: str
    """The original ``/authorize`` query string, to resume after sign-in."""
    created: int


class OidcIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """Who the provider says signed in."""

    subject: str
    email: str
    name: str | None = None


class OidcProvider:
    """One OpenID Connect provider (Google: issuer ``https://accounts.google.com``)."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        name: str = "Google",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.name = name
        self.transport = transport
        self.timeout = timeout
        self._discovery: tuple[float, dict[str, Any]] | None = None
        self._jwks: tuple[float, dict[str, Any]] | None = None

    async def _get_json(self, url: str) -> dict[str, Any]:
        import httpx

        async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as http:
            try:
                response = await http.get(url, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                raise OidcError(f"cannot reach {self.name}") from exc
        if response.status_code != 200:
            raise OidcError(f"{self.name} answered HTTP {response.status_code}")
        data = response.json()
        if not isinstance(data, dict):
            raise OidcError(f"{self.name} sent something that is not a JSON object")
        return data

    async def discovery(self) -> dict[str, Any]:
        """Return the provider's discovery document (cached for an hour)."""
        if self._discovery is not None and time.monotonic() < self._discovery[0]:
            return self._discovery[1]
        doc = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        if doc.get("issuer", "").rstrip("/") != self.issuer:
            raise OidcError(f"{self.name}'s discovery document names another issuer")
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(field), str):
                raise OidcError(f"{self.name}'s discovery document has no {field}")
        self._discovery = (time.monotonic() + 3600, doc)
        return doc

    async def start(self, request_query: str) -> tuple[str, OidcPending]:
        """Return the URL to send the person to, and what to remember until they return."""
        doc = await self.discovery()
        pending = OidcPending(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),
            request=request_query,
            created=int(time.time()),
        )
        challenge = base64.urlsafe_b64encode(hashlib.sha256(pending.verifier.encode()).digest())
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid email profile",
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
            "prompt": "select_account",
        }
        return f"{doc['authorization_endpoint']}?{urlencode(params)}", pending

    async def finish(self, *, code: str, state: str, pending: OidcPending) -> OidcIdentity:
        """Exchange the code and verify the ID token.

        Raises:
            OidcError: state mismatch, expired attempt, failed exchange, bad or
                unsigned ID token, or an unverified email.

        """
        import httpx
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        if not secrets.compare_digest(state, pending.state):
            raise OidcError("the sign-in answer does not match this browser; try again")
        if time.time() - pending.created > 600:
            raise OidcError("the sign-in took too long; try again")
        doc = await self.discovery()
        async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as http:
            try:
                response = await http.post(
                    doc["token_endpoint"],
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": self.redirect_uri,
                        "client_id": self.client_id,
                        "client_secret": self.client_secret,
                        "code_verifier": pending.verifier,
                    },
                    headers={"Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise OidcError(f"cannot reach {self.name}") from exc
        if response.status_code != 200:
            raise OidcError(f"{self.name} refused the sign-in (HTTP {response.status_code})")
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise OidcError(f"{self.name} sent no ID token")
        # A JWKS document of unknown shape: import_key_set checks it.
        jwks: Any = await self._get_json(doc["jwks_uri"])
        keys = KeySet.import_key_set(jwks)
        try:
            token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "values": [self.issuer, f"{self.issuer}/"]},
                aud={"essential": True, "value": self.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": pending.nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise OidcError(f"{self.name}'s ID token is not valid") from exc
        claims = token.claims
        email = claims.get("email")
        if not isinstance(email, str) or claims.get("email_verified") not in (True, "true"):
            raise OidcError(f"{self.name} did not confirm a verified email address")
        name = claims.get("name")
        return OidcIdentity(
            subject=str(claims["sub"]),
            email=email.strip().lower(),
            name=name if isinstance(name, str) else None,
        )
