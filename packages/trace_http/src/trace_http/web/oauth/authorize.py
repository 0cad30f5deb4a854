"""``/authorize``: the sign-in and consent pages of the authorization flow."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency

from trace_core.model import Scope
from trace_http.web.oauth._pages import (
    Pages,
    Session,
    consent_page,
    error_html,
    form_of,
    prompt_for,
    to_response,
)
from trace_http.web.oauth.signin import sign_in
from trace_oauth.server import AuthorizationPrompt, AuthorizationService

__all__ = ["AuthorizeController", "login_page"]


def login_page(
    request: Request[Any, Any, Any],
    pages: Pages,
    prompt: AuthorizationPrompt,
    query: str,
    *,
    session: Session | None = None,
    status: int = 200,
    error: str = "",
    email: str = "",
) -> Response[str]:
    """Render the flow's sign-in page, with "Sign in with …" and sign-up links when on."""
    csrf, cookies = pages.csrf_for(request, session)
    carried = html.escape(urlencode({"request": query}), quote=True)
    extra = ""
    if pages.oidc_name is not None:
        extra += (
            f'<p><a class="button" href="/authorize/oidc?{carried}">'
            f"Sign in with {html.escape(pages.oidc_name)}</a></p>"
        )
    if pages.signup_open:
        extra += f'<p class="hint">No account yet? <a href="/signup?{carried}">Create one</a>.</p>'
    return pages.page(
        status,
        "Sign in",
        pages.templates.login,
        cookies=cookies,
        client_name=prompt.client_name,
        action="/authorize/login",
        csrf=csrf,
        request=query,
        email=email,
        _error=error_html(error),
        _extra=extra,
    )


class AuthorizeController(Controller):
    """``GET /authorize`` and the two forms it shows: sign-in and consent."""

    path = "/authorize"
    include_in_schema = False

    @get()
    async def authorize(
        self,
        request: Request[Any, Any, Any],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
    ) -> Response[Any]:
        """Check the request; ask a signed-out browser to sign in, a signed-in one to consent."""
        query = request.url.query or ""
        prompt = await prompt_for(oauth, pages, query)
        if isinstance(prompt, Response):
            return prompt
        session = await pages.current_session(request)
        if session is None:
            return login_page(request, pages, prompt, query)
        return await consent_page(request, oauth, pages, prompt, query, session)

    @post("/login", status_code=200)
    async def login(
        self,
        request: Request[Any, Any, Any],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
    ) -> Response[Any]:
        """Sign in, then show the consent page."""
        form = dict(await form_of(request))
        query = form.get("request", "")
        prompt = await prompt_for(oauth, pages, query)
        if isinstance(prompt, Response):
            return prompt
        session = await pages.current_session(request)
        email = form.get("email", "")

        def again(status: int, error: str) -> Response[str]:
            return login_page(
                request,
                pages,
                prompt,
                query,
                session=session,
                status=status,
                error=error,
                email=email,
            )

        started = await sign_in(request, form, session, oauth=oauth, pages=pages, again=again)
        if isinstance(started, Response):
            return started
        session, cookies = started
        return await consent_page(request, oauth, pages, prompt, query, session, cookies=cookies)

    @post("/consent", status_code=302)
    async def consent(
        self,
        request: Request[Any, Any, Any],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
    ) -> Response[Any]:
        """Send the person back to the app with a code (allowed) or an error (denied)."""
        form = dict(await form_of(request))
        query = form.get("request", "")
        prompt = await prompt_for(oauth, pages, query)
        if isinstance(prompt, Response):
            return prompt
        session = await pages.current_session(request)
        if session is None:
            # Signed out or expired meanwhile: nothing changes, ask to sign in again.
            return login_page(request, pages, prompt, query, error="Please sign in again.")
        if not pages.csrf_ok(request, form, session):
            return pages.session_expired()
        params = parse_qsl(query, keep_blank_values=True)
        if form.get("decision") != "allow":
            result = await oauth.finish_authorization(params, account_id=None, scope=None)
        else:
            scope = Scope.FULL if form.get("scope") == "full" else Scope.READ
            result = await oauth.finish_authorization(
                params, account_id=session.account_id, scope=scope
            )
        return to_response(result)
