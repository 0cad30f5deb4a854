"""``/authorize/oidc``: "Sign in with …" through an OpenID Connect provider.

Only routed when ``auth.oidc_*`` is configured. Accounts are matched by the
provider's verified email; the person then consents as after a password sign-in.
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency

from trace_core.errors import PlanRequiredError
from trace_http.web.oauth._pages import (
    OIDC_COOKIE,
    PAGE_HEADERS,
    Pages,
    consent_page,
    prompt_for,
)
from trace_oauth.authenticator import check_plan
from trace_oauth.oidc import OidcError, OidcPending, OidcProvider
from trace_oauth.server import AuthorizationService

__all__ = ["OidcController"]


class OidcController(Controller):
    """The round trip to the provider: start, then its callback."""

    path = "/authorize/oidc"
    include_in_schema = False

    @get()
    async def start(
        self,
        request: Request[Any, Any, Any],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
        oidc: NamedDependency[OidcProvider],
    ) -> Response[Any]:
        """Send the browser to the provider, remembering the authorization request."""
        query = request.query_params.get("request", "")
        prompt = await prompt_for(oauth, pages, query)
        if isinstance(prompt, Response):
            return prompt
        try:
            url, pending = await oidc.start(query)
        except OidcError as exc:
            return pages.error_page(502, f"Sign-in with {oidc.name} failed", exc.message)
        blob = base64.urlsafe_b64encode(msgspec.json.encode(pending)).decode()
        response: Response[Any] = Response(
            content=b"", status_code=302, headers={"Location": url, **PAGE_HEADERS}
        )
        response.set_cookie(
            OIDC_COOKIE,
            pages.cookies.sign(blob),
            path="/authorize/oidc",
            httponly=True,
            secure=pages.secure,
            samesite="lax",
            max_age=600,
        )
        return response

    @get("/callback")
    async def callback(
        self,
        request: Request[Any, Any, Any],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
        oidc: NamedDependency[OidcProvider],
    ) -> Response[Any]:
        """Sign the matching account in and show the consent page."""
        heading = f"Sign-in with {oidc.name} failed"
        params = request.query_params
        if params.get("error"):
            return pages.error_page(400, heading, "The sign-in was cancelled or refused.")
        blob = pages.cookies.unsign(request.cookies.get(OIDC_COOKIE))
        if blob is None:
            return pages.error_page(400, heading, "The sign-in expired; start again from the app.")
        try:
            pending = msgspec.json.decode(base64.urlsafe_b64decode(blob), type=OidcPending)
        except (ValueError, msgspec.DecodeError):
            return pages.error_page(400, heading, "The sign-in expired; start again from the app.")
        prompt = await prompt_for(oauth, pages, pending.request)
        if isinstance(prompt, Response):
            return prompt
        try:
            identity = await oidc.finish(
                code=params.get("code", ""), state=params.get("state", ""), pending=pending
            )
        except OidcError as exc:
            return pages.error_page(400, heading, exc.message)
        async with oauth.storage.unit_of_work() as uow:
            account = await uow.accounts.get_by_email(identity.email)
        if account is None or not account.is_active:
            return pages.error_page(
                403,
                "No Trace account for this address",
                f"No active Trace account uses {identity.email}. Ask the operator for one, "
                "or sign in with your Trace email and password.",
            )
        try:
            check_plan(oauth.config, account)
        except PlanRequiredError as exc:
            return pages.error_page(403, "Integrations are not included in your plan", exc.message)
        session, cookies = await pages.start_session(
            account.account_id, await pages.current_session(request)
        )
        response = await consent_page(
            request, oauth, pages, prompt, pending.request, session, cookies=cookies
        )
        response.delete_cookie(OIDC_COOKIE, path="/authorize/oidc")
        return response
