"""The authorization server's routes and pages, as Litestar controllers.

The protocol work is in :class:`trace_oauth.AuthorizationService`; the
controllers turn Litestar requests into its framework-free requests and render
the pages (server-side HTML, no JavaScript). One module per room:

- :mod:`~trace_http.web.oauth.endpoints` — metadata, ``/token``, ``/revoke``, ``/register``;
- :mod:`~trace_http.web.oauth.authorize` — ``/authorize``: sign-in and consent;
- :mod:`~trace_http.web.oauth.signin` — the one sign-in path, ``/signin``,
  ``/signout``, ``/signup``;
- :mod:`~trace_http.web.oauth.integrations` — Settings → Integrations;
- :mod:`~trace_http.web.oauth.oidc` — "Sign in with …" (OpenID Connect);
- :mod:`~trace_http.web.oauth._pages` — what they share: rendering, cookies,
  sessions, CSRF.

:func:`oauth_router` wires them to the runtime's parts through Litestar
dependencies (``oauth``, ``pages``, ``api_keys``, ``signup``, ``oidc``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from litestar import Router
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from trace_http.web.oauth._pages import Pages, authorize_url
from trace_http.web.oauth.authorize import AuthorizeController
from trace_http.web.oauth.endpoints import OAuthEndpoints
from trace_http.web.oauth.integrations import IntegrationsController
from trace_http.web.oauth.oidc import OidcController
from trace_http.web.oauth.signin import SignInController, SignUpController

if TYPE_CHECKING:
    from trace_http.runtime import Runtime

__all__ = ["authorize_url", "oauth_router"]


def _constant(value: Any) -> Provide:
    def provide() -> Any:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)


def oauth_router(runtime: Runtime) -> Router:
    """Return the authorization server's routes, wired to ``runtime``'s parts.

    Sign-up and "Sign in with …" are routed only when the runtime has them
    (``auth.open_signup``, ``auth.oidc_*``).
    """
    signup, oidc = runtime.signup, runtime.oidc
    pages = Pages(
        sessions=runtime.web_sessions,
        secret=runtime.session_secret,
        public_url=runtime.public_url,
        oidc_name=oidc.name if oidc is not None else None,
        signup_open=signup is not None,
    )
    handlers: list[ControllerRouterHandler] = [
        OAuthEndpoints,
        AuthorizeController,
        SignInController,
        IntegrationsController,
    ]
    values: dict[str, Any] = {"oauth": runtime.oauth, "pages": pages, "api_keys": runtime.api_keys}
    if signup is not None:
        handlers.append(SignUpController)
        values["signup"] = signup
    if oidc is not None:
        handlers.append(OidcController)
        values["oidc"] = oidc
    dependencies: dict[str, Provide | Callable[..., Any]] = {
        name: _constant(value) for name, value in values.items()
    }
    return Router(
        path="/", route_handlers=handlers, dependencies=dependencies, include_in_schema=False
    )
