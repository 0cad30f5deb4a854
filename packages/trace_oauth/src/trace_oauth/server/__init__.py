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

The package's modules: ``_http`` (the framework-free request, response and JSON
errors), ``_authlib`` (our models and grants on authlib's classes, run in a worker
thread) and ``_service`` (:class:`AuthorizationService`).
"""

from __future__ import annotations

from trace_oauth.server._http import (
    AuthorizationPageError,
    AuthorizationPrompt,
    OAuthRequest,
    OAuthResponse,
    registration_too_large,
)
from trace_oauth.server._service import AuthorizationService

__all__ = [
    "AuthorizationPageError",
    "AuthorizationPrompt",
    "AuthorizationService",
    "OAuthRequest",
    "OAuthResponse",
    "registration_too_large",
]
