"""The machine endpoints of the authorization server: metadata, token, revoke, register."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from trace_http.web.oauth._pages import form_of, oauth_request, to_response
from trace_oauth.clients import MAX_METADATA_BYTES
from trace_oauth.server import AuthorizationService, registration_too_large

__all__ = ["OAuthEndpoints"]


class OAuthEndpoints(Controller):
    """RFC 8414 metadata (also as OpenID configuration), ``/token``, ``/revoke``, ``/register``.

    The protocol work is :class:`trace_oauth.server.AuthorizationService`'s; these
    handlers only carry requests and answers across. CORS (any origin, no
    credentials) comes from the app's CORS config.
    """

    path = "/"
    include_in_schema = False

    @get(
        ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"],
        sync_to_thread=False,
    )
    def metadata(self, oauth: NamedDependency[AuthorizationService]) -> Response[dict[str, Any]]:
        """Return the authorization server's metadata, cacheable for an hour."""
        return Response(
            content=oauth.metadata(),
            headers={"Cache-Control": "public, max-age=3600"},
            media_type="application/json",
        )

    @post("/token", status_code=200)
    async def token(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationService]
    ) -> Response[Any]:
        """Exchange a code or a refresh token for tokens."""
        form = await form_of(request)
        return to_response(await oauth.token(oauth_request(request, form=form)))

    @post("/revoke", status_code=200)
    async def revoke(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationService]
    ) -> Response[Any]:
        """Revoke a token (RFC 7009)."""
        form = await form_of(request)
        return to_response(await oauth.revoke(oauth_request(request, form=form)))

    @post("/register", status_code=201, request_max_body_size=MAX_METADATA_BYTES)
    async def register(
        self, request: Request[Any, Any, Any], oauth: NamedDependency[AuthorizationService]
    ) -> Response[Any]:
        """Register a client (RFC 7591); bodies beyond the metadata limit are not read."""
        try:
            raw = await request.body()
        except RequestEntityTooLarge:
            return to_response(registration_too_large())
        return to_response(await oauth.register(oauth_request(request, body=raw)))
