"""Signing in, out and up: the one sign-in path, ``/signin``, ``/signout`` and ``/signup``.

:func:`sign_in` is the only place a password is checked on the pages: the
authorization flow's sign-in form (``/authorize/login``) and the Settings
sign-in (``/signin``) both go through it, and differ only in the page they
show again and where they go next.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency

from trace_core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    PlanRequiredError,
    RateLimitedError,
)
from trace_http.runtime import SignUp
from trace_http.web.oauth._pages import (
    SESSION_COOKIE,
    Pages,
    Session,
    client_ip,
    consent_page,
    error_html,
    form_of,
    prompt_for,
    safe_next,
)
from trace_oauth.server import AuthorizationService

__all__ = ["SignInController", "SignUpController", "sign_in"]

TOO_MANY_SIGN_INS = "Too many sign-in attempts. Wait a few minutes and try again."
SIGN_IN_REFUSED = "The email or password is incorrect."

Again = Callable[[int, str], Response[str]]
"""Shows the sign-in form again with a status and an error message."""


async def sign_in(
    request: Request[Any, Any, Any],
    form: dict[str, str],
    session: Session | None,
    *,
    oauth: AuthorizationService,
    pages: Pages,
    again: Again,
    for_integrations: bool = True,
) -> tuple[Session, dict[str, str]] | Response[Any]:
    """Check a sign-in form and start a fresh session for the account it names.

    Args:
        request: the form's request (its origin and CSRF cookie are checked).
        form: the posted fields (``csrf_token``, ``email``, ``password``).
        session: the session the browser had (ended when the new one starts).
        oauth: checks the password, with the per-email and per-address limits.
        pages: sessions and CSRF.
        again: renders the form again, for a refused attempt.
        for_integrations: the sign-in connects an app, so the plan is checked.

    Returns:
        The new session and the cookie that carries it, or the answer to send:
        403 for a failed CSRF check or an account without integrations, 429
        with ``Retry-After`` past the limits, 401 for a wrong password.

    """
    if not pages.csrf_ok(request, form, session):
        return pages.error_page(403, "Session expired", "Reload the sign-in page and try again.")
    try:
        account = await oauth.login(
            form.get("email", ""),
            form.get("password", ""),
            client_ip=client_ip(request),
            for_integrations=for_integrations,
        )
    except RateLimitedError as exc:
        return pages.too_many(again(429, TOO_MANY_SIGN_INS), exc.retry_after)
    except PlanRequiredError as exc:
        return pages.error_page(403, "Integrations are not included in your plan", exc.message)
    except AuthenticationError:
        return again(401, SIGN_IN_REFUSED)
    return await pages.start_session(account.account_id, session)


def signin_page(
    request: Request[Any, Any, Any],
    pages: Pages,
    *,
    session: Session | None = None,
    status: int = 200,
    error: str = "",
    email: str = "",
    next_url: str = "",
) -> Response[str]:
    """Render the sign-in page (``next_url``: the local page to go to after it)."""
    csrf, cookies = pages.csrf_for(request, session)
    return pages.page(
        status,
        "Sign in",
        pages.templates.signin,
        cookies=cookies,
        csrf=csrf,
        email=email,
        next=safe_next(next_url, ""),
        _error=error_html(error),
    )


class SignInController(Controller):
    """``/signin`` (to Settings → Integrations) and ``/signout``."""

    path = "/"
    include_in_schema = False

    @get("/signin")
    async def form(
        self, request: Request[Any, Any, Any], pages: NamedDependency[Pages]
    ) -> Response[Any]:
        """Show the sign-in form (``?next=/path``: where to go after it)."""
        return signin_page(
            request,
            pages,
            session=await pages.current_session(request),
            next_url=request.query_params.get("next", ""),
        )

    @post("/signin", status_code=303)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
    ) -> Response[Any]:
        """Sign in and go to ``next`` (a local page), else Settings → Integrations."""
        form = dict(await form_of(request))
        session = await pages.current_session(request)
        email = form.get("email", "")
        next_url = safe_next(form.get("next"), "/settings/integrations")

        def again(status: int, error: str) -> Response[str]:
            return signin_page(
                request,
                pages,
                session=session,
                status=status,
                error=error,
                email=email,
                next_url=next_url,
            )

        started = await sign_in(
            request, form, session, oauth=oauth, pages=pages, again=again, for_integrations=False
        )
        if isinstance(started, Response):
            return started
        response = pages.redirect(next_url)
        pages.set_cookies(response, started[1])
        return response

    @post("/signout", status_code=303)
    async def signout(
        self, request: Request[Any, Any, Any], pages: NamedDependency[Pages]
    ) -> Response[Any]:
        """End the session everywhere and go back to the sign-in page."""
        form = dict(await form_of(request))
        session = await pages.current_session(request)
        if not pages.csrf_ok(request, form, session):
            return pages.session_expired()
        if session is not None:
            await pages.sessions.end(session.session_id)
        response = pages.redirect("/signin")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def signup_page(
    request: Request[Any, Any, Any],
    pages: Pages,
    query: str,
    *,
    session: Session | None = None,
    status: int = 200,
    error: str = "",
    email: str = "",
    name: str = "",
) -> Response[str]:
    """Render the sign-up form (``query``: the authorization request to go on with)."""
    csrf, cookies = pages.csrf_for(request, session)
    return pages.page(
        status,
        "Create account",
        pages.templates.signup,
        cookies=cookies,
        csrf=csrf,
        request=query,
        email=email,
        name=name,
        _error=error_html(error),
    )


class SignUpController(Controller):
    """``/signup``: anyone may create an account (only when ``auth.open_signup`` is on)."""

    path = "/signup"
    include_in_schema = False

    @get()
    async def form(
        self, request: Request[Any, Any, Any], pages: NamedDependency[Pages]
    ) -> Response[Any]:
        """Show the sign-up form."""
        return signup_page(
            request,
            pages,
            request.query_params.get("request", ""),
            session=await pages.current_session(request),
        )

    @post(status_code=200)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
        signup: NamedDependency[SignUp],
    ) -> Response[Any]:
        """Create the account, sign it in, and go on to consent (or say it is ready)."""
        form = dict(await form_of(request))
        query = form.get("request", "")
        session = await pages.current_session(request)
        if not pages.csrf_ok(request, form, session):
            return pages.session_expired()
        email, name = form.get("email", "").strip(), form.get("name", "").strip()
        retry = await oauth.credentials.hit_rate_limit(
            f"signup:{client_ip(request) or 'unknown'}",
            now=oauth.clock.now(),
            window=timedelta(hours=1),
            limit=oauth.config.registration_limit,
        )
        if retry is not None:
            refused = signup_page(
                request,
                pages,
                query,
                session=session,
                status=429,
                error="Too many sign-ups from here; try later.",
            )
            return pages.too_many(refused, retry)
        try:
            account = await signup(email, form.get("password", ""), name or None)
        except RateLimitedError as exc:
            busy = signup_page(
                request,
                pages,
                query,
                status=429,
                error="The server is busy; try again in a moment.",
            )
            return pages.too_many(busy, exc.retry_after)
        except InvalidInputError as exc:
            return signup_page(
                request,
                pages,
                query,
                session=session,
                status=400,
                error=exc.message,
                email=email,
                name=name,
            )
        except ConflictError:
            # Same answer whether or not the address is taken would be nicer, but the
            # person must learn to sign in instead; no password is revealed either way.
            return signup_page(
                request,
                pages,
                query,
                session=session,
                status=409,
                error="An account with this email exists: sign in instead.",
                email=email,
                name=name,
            )
        session, cookies = await pages.start_session(account.account_id, session)
        if query:
            prompt = await prompt_for(oauth, pages, query)
            if isinstance(prompt, Response):
                return prompt
            return await consent_page(
                request, oauth, pages, prompt, query, session, cookies=cookies
            )
        return pages.page(
            201,
            "Account created",
            pages.templates.done,
            cookies=cookies,
            heading="Your account is ready",
            message="Go back to your assistant and connect it to Trace.",
        )
