"""What every OAuth page shares: rendering, cookies, the sign-in session, CSRF checks.

:class:`Pages` is built once per app from the runtime and injected into every
controller (``pages``). The mechanism of sessions and CSRF tokens is
:class:`trace_oauth.WebSessions`'s; this module binds it to cookies and forms:

- the sign-in session is a random id in an HMAC-signed cookie; the database
  keeps its hash, account and expiry, so sign-out and a password change end it
  on every replica;
- every form carries a CSRF token bound to what the browser holds: HMAC of the
  session id once signed in, of a random pre-session cookie (``trace_csrf``)
  before; a planted cookie comes without its token, and one session's token is
  refused in another;
- every POST from a browser must come from our origin: an ``Origin`` header
  other than ours, ``null`` included, is refused; without one, a ``Referer``
  from elsewhere is (pages send ``Referrer-Policy: same-origin``, so browsers
  send our real origin on our own forms and no referrer to other sites);
- pages are never framed (``frame-ancestors 'none'``) or cached, and cookies are
  HttpOnly, ``SameSite=Lax`` and ``Secure`` when the public URL is https.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from string import Template
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

from litestar import MediaType, Request, Response

from trace_core.errors import PlanRequiredError
from trace_core.model import Account, Scope
from trace_http.web.ratelimit import retry_after_header
from trace_oauth.authenticator import check_plan
from trace_oauth.server import (
    AuthorizationPageError,
    AuthorizationPrompt,
    AuthorizationService,
    OAuthRequest,
    OAuthResponse,
)
from trace_oauth.sessions import WebSessions

NO_INTEGRATIONS = "Integrations are not included in your plan"
"""The heading of the page refusing to connect an app to an account without the plan."""

__all__ = [
    "CSRF_COOKIE",
    "OIDC_COOKIE",
    "PAGE_HEADERS",
    "SESSION_COOKIE",
    "Pages",
    "Session",
    "authorize_url",
    "consent_page",
    "form_of",
    "oauth_request",
    "origin",
    "prompt_for",
    "safe_next",
    "to_response",
]

SESSION_COOKIE = "trace_session"
OIDC_COOKIE = "trace_oidc"
CSRF_COOKIE = "trace_csrf"
_NONCE_CHARS = (32, 128)
"""Accepted length of the pre-session ``trace_csrf`` cookie (we issue 43 characters)."""

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": with it browsers send "Origin: null" on our own forms,
    # which the CSRF check refuses. "same-origin" sends no referrer elsewhere.
    "Referrer-Policy": "same-origin",
}

SESSION_EXPIRED = ("Session expired", "Reload the page and try again.")
"""The heading and message of the page answering a form whose CSRF check failed."""


class Session(NamedTuple):
    """The live web session a request carries."""

    session_id: str
    account_id: uuid.UUID


def origin(url: str) -> str:
    """Return the ``scheme://host[:port]`` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def safe_next(value: str | None, default: str = "/home") -> str:
    """Return a local path to go to after sign-in; anything else becomes ``default``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return default
    return value


def when(value: datetime | None) -> str:
    """Format a timestamp for a page: UTC, to the minute."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def error_html(message: str) -> str:
    """Return the alert block a form shows above itself (escaped), or nothing."""
    return f'<div class="error" role="alert"><p>{html.escape(message)}</p></div>' if message else ""


def authorize_url(issuer: str, params: dict[str, str]) -> str:
    """Return the ``/authorize`` URL for ``params`` (tests and docs)."""
    return f"{issuer}/authorize?{urlencode(params)}"


def _template(name: str) -> Template:
    text = resources.files("trace_http.web.oauth").joinpath("templates", name).read_text("utf-8")
    return Template(text)


class _Templates:
    """The HTML pages; every value is escaped unless its name starts with ``_``."""

    def __init__(self) -> None:
        self.base = _template("base.html")
        self.login = _template("login.html")
        self.consent = _template("consent.html")
        self.error = _template("error.html")
        self.signup = _template("signup.html")
        self.signin = _template("signin.html")
        self.integrations = _template("integrations.html")
        self.done = _template("done.html")

    def render(self, title: str, body: Template, *, wide: bool = False, **values: str) -> str:
        escaped = {
            k: html.escape(v, quote=True) for k, v in values.items() if not k.startswith("_")
        }
        raw = {k[1:]: v for k, v in values.items() if k.startswith("_")}
        content = body.substitute({**escaped, **raw})
        return self.base.substitute(
            title=html.escape(title), content=content, main_class="wide" if wide else ""
        )


class _CookieSigner:
    """HMAC signing for the session cookie (and the OIDC round-trip cookie)."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"trace-oauth-session\x00" + secret).digest()

    def sign(self, value: str) -> str:
        mac = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return f"{value}.{mac}"

    def unsign(self, signed: str | None) -> str | None:
        if not signed or "." not in signed:
            return None
        value, mac = signed.rsplit(".", 1)
        expected = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return value if hmac.compare_digest(mac, expected) else None


class Pages:
    """Page rendering, cookies, sign-in sessions and CSRF checks for the OAuth pages.

    Args:
        sessions: the web sessions (kept in the credential store).
        secret: the session secret (≥ 32 bytes, the same on every replica).
        public_url: the server's public origin (our pages' origin; https makes
            cookies ``Secure``).
        oidc_name: the provider named on the "Sign in with …" button, or None.
        signup_open: link the sign-up page from the sign-in page.

    """

    def __init__(
        self,
        *,
        sessions: WebSessions,
        secret: bytes,
        public_url: str,
        oidc_name: str | None = None,
        signup_open: bool = False,
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the session secret must be at least 32 bytes")
        self.sessions = sessions
        self.templates = _Templates()
        self.cookies = _CookieSigner(secret)
        self.public_url = public_url.rstrip("/")
        self.own_origin = origin(self.public_url)
        self.secure = self.public_url.startswith("https://")
        self.oidc_name = oidc_name
        self.signup_open = signup_open

    # --- answers ------------------------------------------------------------------

    def page(
        self,
        status: int,
        title: str,
        body: Template,
        *,
        form_targets: Sequence[str] = (),
        cookies: dict[str, str] | None = None,
        wide: bool = False,
        **values: str,
    ) -> Response[str]:
        """Render a page with the security headers, setting ``cookies``."""
        form_action = " ".join(["'self'", *form_targets])
        headers = {
            **PAGE_HEADERS,
            "Content-Security-Policy": (
                "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
                "img-src 'self'; "
                f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
            ),
        }
        response = Response(
            content=self.templates.render(title, body, wide=wide, **values),
            status_code=status,
            headers=headers,
            # Litestar appends "; charset=utf-8" (the response's encoding) to every
            # text/* type itself: naming it here too sent the charset twice.
            media_type=MediaType.HTML,
        )
        self.set_cookies(response, cookies or {})
        return response

    def error_page(self, status: int, heading: str, message: str) -> Response[str]:
        """Render the error page."""
        return self.page(status, heading, self.templates.error, heading=heading, message=message)

    def session_expired(self) -> Response[str]:
        """Answer a form whose CSRF check failed."""
        return self.error_page(403, *SESSION_EXPIRED)

    def set_cookies(self, response: Response[Any], cookies: dict[str, str]) -> None:
        """Set session-lived cookies: HttpOnly, SameSite=Lax, Secure on https.

        They last as long as a sign-in can (the server ends an idle one sooner).
        """
        for name, value in cookies.items():
            response.set_cookie(
                name,
                value,
                path="/",
                httponly=True,
                secure=self.secure,
                samesite="lax",
                max_age=int(self.sessions.max_age.total_seconds()),
            )

    @staticmethod
    def too_many(response: Response[Any], retry_after: float) -> Response[Any]:
        """Add ``Retry-After`` to a 429 page."""
        response.headers["Retry-After"] = retry_after_header(retry_after)
        return response

    @staticmethod
    def redirect(location: str) -> Response[Any]:
        """Answer a form with a 303 to ``location``."""
        return Response(content=b"", status_code=303, headers={"Location": location})

    # --- the sign-in session ------------------------------------------------------

    async def current_session(self, request: Request[Any, Any, Any]) -> Session | None:
        """Return the request's live session (looked up in the shared store), or None."""
        session_id = self.cookies.unsign(request.cookies.get(SESSION_COOKIE))
        if not session_id:
            return None
        account_id = await self.sessions.account_for(session_id)
        return Session(session_id, account_id) if account_id is not None else None

    async def start_session(
        self, account_id: uuid.UUID, replacing: Session | None
    ) -> tuple[Session, dict[str, str]]:
        """Start a fresh session (never reuse one from before sign-in); end the one replaced."""
        if replacing is not None:
            await self.sessions.end(replacing.session_id)
        session_id = await self.sessions.start(account_id)
        return Session(session_id, account_id), {SESSION_COOKIE: self.cookies.sign(session_id)}

    async def signed_in(
        self, request: Request[Any, Any, Any], oauth: AuthorizationService
    ) -> tuple[Account, Session] | None:
        """Return the active account signed in on this browser and its session, or None."""
        session = await self.current_session(request)
        if session is None:
            return None
        async with oauth.storage.unit_of_work() as uow:
            account = await uow.accounts.get(session.account_id)
        return (account, session) if account is not None and account.is_active else None

    # --- CSRF ---------------------------------------------------------------------

    def csrf_for(
        self, request: Request[Any, Any, Any], session: Session | None
    ) -> tuple[str, dict[str, str]]:
        """Return the CSRF token for a form, and the pre-session cookie to set (if any)."""
        if session is not None:
            return self.sessions.csrf_token(session_id=session.session_id), {}
        nonce = request.cookies.get(CSRF_COOKIE)
        if nonce and _NONCE_CHARS[0] <= len(nonce) <= _NONCE_CHARS[1]:
            return self.sessions.csrf_token(nonce=nonce), {}
        nonce = secrets.token_urlsafe(32)
        return self.sessions.csrf_token(nonce=nonce), {CSRF_COOKIE: nonce}

    def from_our_pages(self, request: Request[Any, Any, Any]) -> bool:
        """Whether a browser says the request comes from our origin (``null`` does not)."""
        sent_origin = request.headers.get("origin")
        if sent_origin is not None:
            return sent_origin.rstrip("/") == self.own_origin
        referer = request.headers.get("referer")
        return referer is None or origin(referer) == self.own_origin

    def csrf_ok(
        self, request: Request[Any, Any, Any], form: dict[str, str], session: Session | None
    ) -> bool:
        """Whether a POST comes from our origin with the token bound to what it carries."""
        if not self.from_our_pages(request):
            return False
        sent = form.get("csrf_token") or ""
        if session is not None:
            return self.sessions.csrf_valid(sent, session_id=session.session_id)
        nonce = request.cookies.get(CSRF_COOKIE) or ""
        if not _NONCE_CHARS[0] <= len(nonce) <= _NONCE_CHARS[1]:
            return False
        return self.sessions.csrf_valid(sent, nonce=nonce)


# --- requests in, answers out ------------------------------------------------------------


async def form_of(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    """Return the posted form's text fields, in order (repeated names kept)."""
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """Return the client address the per-address limits count."""
    return request.client.host if request.client else None


def oauth_request(
    request: Request[Any, Any, Any], *, form: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> OAuthRequest:
    """Turn a Litestar request into the authorization server's framework-free request."""
    return OAuthRequest(
        method=request.method,
        path=request.url.path,
        headers={k.lower(): v for k, v in request.headers.items()},
        query=list(request.query_params.multi_items()),
        form=list(form),
        body=body,
        client_ip=client_ip(request),
    )


def to_response(result: OAuthResponse) -> Response[Any]:
    """Turn the authorization server's answer into a Litestar response."""
    headers = {k: v for k, v in result.headers if k.lower() != "content-type"}
    if isinstance(result.body, dict):
        return Response(
            content=result.body,
            status_code=result.status,
            headers=headers,
            media_type="application/json",
        )
    return Response(content=result.body or b"", status_code=result.status, headers=headers)


# --- the authorization flow's pages, shared by the ways of signing in ----------------------


async def prompt_for(
    oauth: AuthorizationService, pages: Pages, query: str
) -> AuthorizationPrompt | Response[Any]:
    """Check an authorization request (``/authorize``'s query); an error page if it is bad."""
    try:
        result = await oauth.prepare_authorization(parse_qsl(query, keep_blank_values=True))
    except AuthorizationPageError as exc:
        return pages.error_page(400, "This app cannot connect", exc.message)
    if isinstance(result, OAuthResponse):
        return to_response(result)
    return result


async def consent_page(
    request: Request[Any, Any, Any],
    oauth: AuthorizationService,
    pages: Pages,
    prompt: AuthorizationPrompt,
    query: str,
    session: Session,
    *,
    cookies: dict[str, str] | None = None,
) -> Response[str]:
    """Render the consent page for a signed-in person (setting ``cookies``: a new session)."""
    csrf, csrf_cookies = pages.csrf_for(request, session)
    async with oauth.storage.unit_of_work() as uow:
        account = await uow.accounts.get(session.account_id)
    if account is not None:
        # Signing in to one's own pages needs no plan; connecting an app does.
        try:
            check_plan(oauth.config, account)
        except PlanRequiredError as exc:
            refused = pages.error_page(403, NO_INTEGRATIONS, exc.message)
            pages.set_cookies(refused, cookies or {})
            return refused
    link = ""
    if prompt.client_uri and str(prompt.client_uri).startswith("https://"):
        uri = html.escape(str(prompt.client_uri), quote=True)
        link = f'<p class="hint">About this app: <code>{uri}</code></p>'
    full = prompt.requested_scope is Scope.FULL
    return pages.page(
        200,
        "Allow access",
        pages.templates.consent,
        form_targets=[origin(prompt.redirect_uri)],
        cookies={**csrf_cookies, **(cookies or {})},
        client_name=prompt.client_name,
        email=account.email if account else "",
        redirect_host=prompt.redirect_host,
        action="/authorize/consent",
        csrf=csrf,
        request=query,
        read_checked="" if full else "checked",
        full_checked="checked" if full else "",
        _client_link=link,
    )
