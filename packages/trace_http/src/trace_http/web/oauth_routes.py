"""Litestar routes of the authorization server: metadata, /authorize pages, /token, /register.

The protocol work is in :class:`trace_oauth.server.AuthorizationService`; this
module turns Litestar requests into :class:`~trace_oauth.server.OAuthRequest`
and renders the login and consent pages (server-side HTML, no JavaScript).

Page security (:mod:`trace_oauth.sessions` holds the mechanism):

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

import base64
import hashlib
import hmac
import html
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from trace_core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PlanRequiredError,
    RateLimitedError,
)
from trace_core.model import Account, Scope
from trace_oauth.authenticator import check_plan
from trace_oauth.clients import MAX_METADATA_BYTES
from trace_oauth.oidc import OidcError, OidcPending
from trace_oauth.server import (
    AuthorizationPageError,
    AuthorizationPrompt,
    OAuthRequest,
    OAuthResponse,
    registration_too_large,
)
from trace_oauth.sessions import SESSION_TTL

if TYPE_CHECKING:
    from trace_http.runtime import Runtime

__all__ = ["oauth_route_handlers"]

SESSION_COOKIE = "trace_session"
OIDC_COOKIE = "trace_oidc"
CSRF_COOKIE = "trace_csrf"
SESSION_TTL_SECONDS = int(SESSION_TTL.total_seconds())
_NONCE_CHARS = (32, 128)
"""Accepted length of the pre-session ``trace_csrf`` cookie (we issue 43 characters)."""

_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": with it browsers send "Origin: null" on our own forms,
    # which the CSRF check refuses. "same-origin" sends no referrer elsewhere.
    "Referrer-Policy": "same-origin",
}


class _Session(NamedTuple):
    """The live web session a request carries."""

    session_id: str
    account_id: uuid.UUID


def _template(name: str) -> Template:
    text = resources.files("trace_http.web").joinpath("oauth_templates", name).read_text("utf-8")
    return Template(text)


class _Pages:
    """Renders the HTML pages; every value is escaped."""

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


class _Signer:
    """HMAC signing for the session cookie."""

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


def _oauth_request(
    request: Request[Any, Any, Any], *, form: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> OAuthRequest:
    return OAuthRequest(
        method=request.method,
        path=request.url.path,
        headers={k.lower(): v for k, v in request.headers.items()},
        query=list(request.query_params.multi_items()),
        form=list(form),
        body=body,
        client_ip=request.client.host if request.client else None,
    )


def _to_response(result: OAuthResponse) -> Response[Any]:
    headers = {k: v for k, v in result.headers if k.lower() != "content-type"}
    if isinstance(result.body, dict):
        return Response(
            content=result.body,
            status_code=result.status,
            headers=headers,
            media_type="application/json",
        )
    return Response(content=result.body or b"", status_code=result.status, headers=headers)


def oauth_route_handlers(runtime: Runtime) -> list[ControllerRouterHandler]:
    """Return the authorization server's route handlers, for the app to include.

    Everything comes from the runtime: the authorization service, the session
    secret (signs the sign-in cookie, derives CSRF tokens; the same on every
    replica), the web sessions, the API keys of the Settings → Integrations
    page (``/settings/integrations``, behind ``/signin``), and, when configured,
    the open sign-up page (``/signup``) and "Sign in with …" through an OpenID
    Connect provider (``/authorize/oidc`` and its callback; accounts match by
    verified email).

    Returns:
        Handlers for ``/.well-known/oauth-authorization-server``,
        ``/.well-known/openid-configuration``, ``/authorize`` (GET, and POST
        for the login and consent forms), ``/token``, ``/register``,
        ``/revoke``, the sign-in and integrations pages, and the optional ones.
        CORS (any origin, no credentials) comes from the app's CORS config.

    """
    service = runtime.oauth
    secret = runtime.session_secret
    if len(secret) < 32:
        raise ValueError("the session secret must be at least 32 bytes")
    signup = runtime.signup
    oidc = runtime.oidc
    keys = runtime.api_keys
    pages = _Pages()
    signer = _Signer(secret)
    sessions = runtime.web_sessions
    issuer = runtime.public_url
    own_origin = _origin(issuer)
    secure = issuer.startswith("https://")

    # --- helpers --------------------------------------------------------------------

    def page(
        status: int,
        title: str,
        body: Template,
        *,
        form_targets: Sequence[str] = (),
        cookies: dict[str, str] | None = None,
        clear: Sequence[str] = (),
        wide: bool = False,
        **values: str,
    ) -> Response[str]:
        form_action = " ".join(["'self'", *form_targets])
        headers = {
            **_PAGE_HEADERS,
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
            ),
        }
        response = Response(
            content=pages.render(title, body, wide=wide, **values),
            status_code=status,
            headers=headers,
            media_type="text/html; charset=utf-8",
        )
        for name, value in (cookies or {}).items():
            response.set_cookie(
                name,
                value,
                path="/",
                httponly=True,
                secure=secure,
                samesite="lax",
                max_age=SESSION_TTL_SECONDS,
            )
        for name in clear:
            response.delete_cookie(name, path="/")
        return response

    def error_page(status: int, heading: str, message: str) -> Response[str]:
        return page(status, heading, pages.error, heading=heading, message=message)

    async def current_session(request: Request[Any, Any, Any]) -> _Session | None:
        """Return the request's live session (looked up in the shared store), or None."""
        session_id = signer.unsign(request.cookies.get(SESSION_COOKIE))
        if not session_id:
            return None
        account_id = await sessions.account_for(session_id)
        return _Session(session_id, account_id) if account_id is not None else None

    async def start_session(
        request: Request[Any, Any, Any], account_id: uuid.UUID, replacing: _Session | None
    ) -> tuple[_Session, dict[str, str]]:
        """Start a fresh session (never reuse one from before sign-in); end the one replaced."""
        if replacing is not None:
            await sessions.end(replacing.session_id)
        session_id = await sessions.start(account_id)
        return _Session(session_id, account_id), {SESSION_COOKIE: signer.sign(session_id)}

    def csrf_for(
        request: Request[Any, Any, Any], session: _Session | None
    ) -> tuple[str, dict[str, str]]:
        """Return the CSRF token for a form, and the pre-session cookie to set (if any)."""
        if session is not None:
            return sessions.csrf_token(session_id=session.session_id), {}
        nonce = request.cookies.get(CSRF_COOKIE)
        if nonce and _NONCE_CHARS[0] <= len(nonce) <= _NONCE_CHARS[1]:
            return sessions.csrf_token(nonce=nonce), {}
        nonce = secrets.token_urlsafe(32)
        return sessions.csrf_token(nonce=nonce), {CSRF_COOKIE: nonce}

    def from_our_pages(request: Request[Any, Any, Any]) -> bool:
        """Whether a browser says the request comes from our origin (``null`` does not)."""
        origin = request.headers.get("origin")
        if origin is not None:
            return origin.rstrip("/") == own_origin
        referer = request.headers.get("referer")
        return referer is None or _origin(referer) == own_origin

    def csrf_ok(
        request: Request[Any, Any, Any], form: dict[str, str], session: _Session | None
    ) -> bool:
        """Whether a POST comes from our origin with the token bound to what it carries."""
        if not from_our_pages(request):
            return False
        sent = form.get("csrf_token") or ""
        if session is not None:
            return sessions.csrf_valid(sent, session_id=session.session_id)
        nonce = request.cookies.get(CSRF_COOKIE) or ""
        if not _NONCE_CHARS[0] <= len(nonce) <= _NONCE_CHARS[1]:
            return False
        return sessions.csrf_valid(sent, nonce=nonce)

    def login_page(
        request: Request[Any, Any, Any],
        prompt: AuthorizationPrompt,
        query: str,
        *,
        session: _Session | None = None,
        status: int = 200,
        error: str = "",
        email: str = "",
    ) -> Response[str]:
        csrf, cookies = csrf_for(request, session)
        error_html = (
            f'<div class="error" role="alert"><p>{html.escape(error)}</p></div>' if error else ""
        )
        return page(
            status,
            "Sign in",
            pages.login,
            cookies=cookies,
            client_name=prompt.client_name,
            action="/authorize/login",
            csrf=csrf,
            request=query,
            email=email,
            _error=error_html,
            _extra=(
                (
                    '<p><a class="button" href="/authorize/oidc?'
                    f'{html.escape(urlencode({"request": query}), quote=True)}">'
                    f"Sign in with {html.escape(oidc.name)}</a></p>"
                    if oidc is not None
                    else ""
                )
                + (
                    '<p class="hint">No account yet? '
                    f'<a href="/signup?{html.escape(urlencode({"request": query}), quote=True)}">'
                    "Create one</a>.</p>"
                    if signup is not None
                    else ""
                )
            ),
        )

    async def consent_page(
        request: Request[Any, Any, Any],
        prompt: AuthorizationPrompt,
        query: str,
        session: _Session,
        *,
        cookies: dict[str, str] | None = None,
    ) -> Response[str]:
        csrf, csrf_cookies = csrf_for(request, session)
        async with service.storage.unit_of_work() as uow:
            account = await uow.accounts.get(session.account_id)
        link = ""
        if prompt.client_uri and str(prompt.client_uri).startswith("https://"):
            uri = html.escape(str(prompt.client_uri), quote=True)
            link = f'<p class="hint">About this app: <code>{uri}</code></p>'
        full = prompt.requested_scope is Scope.FULL
        return page(
            200,
            "Allow access",
            pages.consent,
            form_targets=[_origin(prompt.redirect_uri)],
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

    async def prompt_for(query: str) -> AuthorizationPrompt | Response[Any]:
        try:
            result = await service.prepare_authorization(parse_qsl(query, keep_blank_values=True))
        except AuthorizationPageError as exc:
            return error_page(400, "This app cannot connect", exc.message)
        if isinstance(result, OAuthResponse):
            return _to_response(result)
        return result

    async def form_of(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
        form = await request.form()
        return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]

    # --- metadata -------------------------------------------------------------------

    @get(
        ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"],
        include_in_schema=False,
        sync_to_thread=False,
    )
    def metadata() -> Response[dict[str, Any]]:
        return Response(
            content=service.metadata(),
            headers={"Cache-Control": "public, max-age=3600"},
            media_type="application/json",
        )

    # --- /authorize -----------------------------------------------------------------

    @get("/authorize", include_in_schema=False)
    async def authorize(request: Request[Any, Any, Any]) -> Response[Any]:
        query = request.url.query or ""
        prompt = await prompt_for(query)
        if isinstance(prompt, Response):
            return prompt
        session = await current_session(request)
        if session is None:
            return login_page(request, prompt, query)
        return await consent_page(request, prompt, query, session)

    @post("/authorize/login", include_in_schema=False, status_code=200)
    async def login(request: Request[Any, Any, Any]) -> Response[Any]:
        form = dict(await form_of(request))
        query = form.get("request", "")
        prompt = await prompt_for(query)
        if isinstance(prompt, Response):
            return prompt
        session = await current_session(request)
        if not csrf_ok(request, form, session):
            return error_page(403, "Session expired", "Reload the sign-in page and try again.")
        email = form.get("email", "")
        try:
            account = await service.login(
                email,
                form.get("password", ""),
                client_ip=request.client.host if request.client else None,
            )
        except RateLimitedError as exc:
            response = login_page(
                request,
                prompt,
                query,
                session=session,
                status=429,
                error="Too many sign-in attempts. Wait a few minutes and try again.",
                email=email,
            )
            response.headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
            return response
        except PlanRequiredError as exc:
            return error_page(403, "Integrations are not included in your plan", exc.message)
        except AuthenticationError:
            return login_page(
                request,
                prompt,
                query,
                session=session,
                status=401,
                error="The email or password is incorrect.",
                email=email,
            )
        session, cookies = await start_session(request, account.account_id, session)
        return await consent_page(request, prompt, query, session, cookies=cookies)

    @post("/authorize/consent", include_in_schema=False, status_code=302)
    async def consent(request: Request[Any, Any, Any]) -> Response[Any]:
        form = dict(await form_of(request))
        query = form.get("request", "")
        prompt = await prompt_for(query)
        if isinstance(prompt, Response):
            return prompt
        session = await current_session(request)
        if session is None:
            # Signed out or expired meanwhile: nothing changes, ask to sign in again.
            return login_page(request, prompt, query, error="Please sign in again.")
        if not csrf_ok(request, form, session):
            return error_page(403, "Session expired", "Reload the page and try again.")
        account_id = session.account_id
        params = parse_qsl(query, keep_blank_values=True)
        if form.get("decision") != "allow":
            result = await service.finish_authorization(params, account_id=None, scope=None)
        else:
            scope = Scope.FULL if form.get("scope") == "full" else Scope.READ
            result = await service.finish_authorization(params, account_id=account_id, scope=scope)
        return _to_response(result)

    # --- sign in with an OpenID Connect provider (off unless ``oidc`` is given) -------

    @get("/authorize/oidc", include_in_schema=False)
    async def oidc_start(request: Request[Any, Any, Any]) -> Response[Any]:
        if oidc is None:
            return error_page(404, "Not available", "This server has no external sign-in.")
        query = request.query_params.get("request", "")
        prompt = await prompt_for(query)
        if isinstance(prompt, Response):
            return prompt
        try:
            url, pending = await oidc.start(query)
        except OidcError as exc:
            return error_page(502, f"Sign-in with {oidc.name} failed", exc.message)
        blob = base64.urlsafe_b64encode(msgspec.json.encode(pending)).decode()
        response: Response[Any] = Response(
            content=b"", status_code=302, headers={"Location": url, **_PAGE_HEADERS}
        )
        response.set_cookie(
            OIDC_COOKIE,
            signer.sign(blob),
            path="/authorize/oidc",
            httponly=True,
            secure=secure,
            samesite="lax",
            max_age=600,
        )
        return response

    @get("/authorize/oidc/callback", include_in_schema=False)
    async def oidc_callback(request: Request[Any, Any, Any]) -> Response[Any]:
        if oidc is None:
            return error_page(404, "Not available", "This server has no external sign-in.")
        heading = f"Sign-in with {oidc.name} failed"
        params = request.query_params
        if params.get("error"):
            return error_page(400, heading, "The sign-in was cancelled or refused.")
        blob = signer.unsign(request.cookies.get(OIDC_COOKIE))
        if blob is None:
            return error_page(400, heading, "The sign-in expired; start again from the app.")
        try:
            pending = msgspec.json.decode(base64.urlsafe_b64decode(blob), type=OidcPending)
        except (ValueError, msgspec.DecodeError):
            return error_page(400, heading, "The sign-in expired; start again from the app.")
        prompt = await prompt_for(pending.request)
        if isinstance(prompt, Response):
            return prompt
        try:
            identity = await oidc.finish(
                code=params.get("code", ""), state=params.get("state", ""), pending=pending
            )
        except OidcError as exc:
            return error_page(400, heading, exc.message)
        async with service.storage.unit_of_work() as uow:
            account = await uow.accounts.get_by_email(identity.email)
        if account is None or not account.is_active:
            return error_page(
                403,
                "No Trace account for this address",
                f"No active Trace account uses {identity.email}. Ask the operator for one, "
                "or sign in with your Trace email and password.",
            )
        try:
            check_plan(service.config, account)
        except PlanRequiredError as exc:
            return error_page(403, "Integrations are not included in your plan", exc.message)
        session, cookies = await start_session(
            request, account.account_id, await current_session(request)
        )
        response = await consent_page(request, prompt, pending.request, session, cookies=cookies)
        response.delete_cookie(OIDC_COOKIE, path="/authorize/oidc")
        return response

    # --- open sign-up (off unless ``signup`` is given) --------------------------------

    def signup_page(
        request: Request[Any, Any, Any],
        query: str,
        *,
        session: _Session | None = None,
        status: int = 200,
        error: str = "",
        email: str = "",
        name: str = "",
    ) -> Response[str]:
        csrf, cookies = csrf_for(request, session)
        error_html = (
            f'<div class="error" role="alert"><p>{html.escape(error)}</p></div>' if error else ""
        )
        return page(
            status,
            "Create account",
            pages.signup,
            cookies=cookies,
            csrf=csrf,
            request=query,
            email=email,
            name=name,
            _error=error_html,
        )

    @get("/signup", include_in_schema=False)
    async def signup_form(request: Request[Any, Any, Any]) -> Response[Any]:
        if signup is None:
            return error_page(404, "Sign-up is closed", "Ask the operator for an account.")
        return signup_page(
            request, request.query_params.get("request", ""), session=await current_session(request)
        )

    @post("/signup", include_in_schema=False, status_code=200)
    async def signup_submit(request: Request[Any, Any, Any]) -> Response[Any]:
        if signup is None:
            return error_page(404, "Sign-up is closed", "Ask the operator for an account.")
        form = dict(await form_of(request))
        query = form.get("request", "")
        session = await current_session(request)
        if not csrf_ok(request, form, session):
            return error_page(403, "Session expired", "Reload the page and try again.")
        email, name = form.get("email", "").strip(), form.get("name", "").strip()
        retry = await service.credentials.hit_rate_limit(
            f"signup:{request.client.host if request.client else 'unknown'}",
            now=service.clock.now(),
            window=timedelta(hours=1),
            limit=service.config.registration_limit,
        )
        if retry is not None:
            response = signup_page(
                request,
                query,
                session=session,
                status=429,
                error="Too many sign-ups from here; try later.",
            )
            response.headers["Retry-After"] = str(max(1, int(retry + 0.999)))
            return response
        try:
            account = await signup(email, form.get("password", ""), name or None)
        except RateLimitedError as exc:
            response = signup_page(
                request, query, status=429, error="The server is busy; try again in a moment."
            )
            response.headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
            return response
        except InvalidInputError as exc:
            return signup_page(
                request,
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
                query,
                session=session,
                status=409,
                error="An account with this email exists: sign in instead.",
                email=email,
                name=name,
            )
        session, cookies = await start_session(request, account.account_id, session)
        if query:
            prompt = await prompt_for(query)
            if isinstance(prompt, Response):
                return prompt
            return await consent_page(request, prompt, query, session, cookies=cookies)
        return page(
            201,
            "Account created",
            pages.done,
            cookies=cookies,
            heading="Your account is ready",
            message="Go back to your assistant and connect it to Trace.",
        )

    # --- Settings → Integrations (API keys and connected apps) ------------------------

    async def signed_in(request: Request[Any, Any, Any]) -> tuple[Account, _Session] | None:
        session = await current_session(request)
        if session is None:
            return None
        async with service.storage.unit_of_work() as uow:
            account = await uow.accounts.get(session.account_id)
        return (account, session) if account is not None and account.is_active else None

    def signin_page(
        request: Request[Any, Any, Any],
        *,
        session: _Session | None = None,
        status: int = 200,
        error: str = "",
        email: str = "",
    ) -> Response[str]:
        csrf, cookies = csrf_for(request, session)
        error_html = (
            f'<div class="error" role="alert"><p>{html.escape(error)}</p></div>' if error else ""
        )
        return page(
            status,
            "Sign in",
            pages.signin,
            cookies=cookies,
            csrf=csrf,
            email=email,
            _error=error_html,
        )

    async def integrations_page(
        request: Request[Any, Any, Any],
        account: Account,
        session: _Session,
        *,
        notice: str = "",
        status: int = 200,
    ) -> Response[str]:
        csrf, cookies = csrf_for(request, session)
        field = f'<input type="hidden" name="csrf_token" value="{html.escape(csrf)}">'
        rows = []
        for key in await keys.list_keys(account.account_id):
            action = (
                f'<form method="post" action="/settings/integrations/keys/{key.key_id}/revoke">'
                f'{field}<button class="secondary" type="submit" '
                f'aria-label="Revoke {html.escape(key.name)}">Revoke</button></form>'
                if key.revoked_at is None
                else f"revoked {_when(key.revoked_at)}"
            )
            rows.append(
                f"<tr><td>{html.escape(key.name)}</td><td><code>{html.escape(key.prefix)}…</code>"
                f"</td><td>{'Full Access' if key.scope is Scope.FULL else 'Read Only'}</td>"
                f"<td>{_when(key.created_at)}</td><td>{_when(key.last_used_at) or 'never'}</td>"
                f"<td>{action}</td></tr>"
            )
        keys_html = (
            "<table><thead><tr><th>Name</th><th>Key</th><th>Access</th><th>Created</th>"
            "<th>Last used</th><th></th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
            if rows
            else '<p class="hint">No API keys yet.</p>'
        )
        apps = []
        for client, token in await service.connected_apps(account.account_id):
            apps.append(
                f"<tr><td>{html.escape(client.client_name)}</td>"
                f"<td>{'Full Access' if token.scope is Scope.FULL else 'Read Only'}</td>"
                f"<td>{_when(token.issued_at)}</td><td>"
                '<form method="post" action="/settings/integrations/apps/disconnect">'
                f'{field}<input type="hidden" name="client_id" '
                f'value="{html.escape(client.client_id, quote=True)}">'
                f'<button class="secondary" type="submit" '
                f'aria-label="Disconnect {html.escape(client.client_name)}">Disconnect</button>'
                "</form></td></tr>"
            )
        apps_html = (
            "<table><thead><tr><th>App</th><th>Access</th><th>Last authorized</th><th></th>"
            "</tr></thead><tbody>" + "".join(apps) + "</tbody></table>"
            if apps
            else '<p class="hint">No apps are connected.</p>'
        )
        return page(
            status,
            "Integrations",
            pages.integrations,
            cookies=cookies,
            wide=True,
            email=account.email,
            mcp_url=f"{issuer}/mcp",
            csrf=csrf,
            _notice=notice,
            _keys=keys_html,
            _apps=apps_html,
        )

    def to_signin() -> Response[Any]:
        return Response(content=b"", status_code=303, headers={"Location": "/signin"})

    def to_integrations() -> Response[Any]:
        return Response(
            content=b"", status_code=303, headers={"Location": "/settings/integrations"}
        )

    @get("/signin", include_in_schema=False)
    async def signin_form(request: Request[Any, Any, Any]) -> Response[Any]:
        return signin_page(request, session=await current_session(request))

    @post("/signin", include_in_schema=False, status_code=303)
    async def signin_submit(request: Request[Any, Any, Any]) -> Response[Any]:
        form = dict(await form_of(request))
        session = await current_session(request)
        if not csrf_ok(request, form, session):
            return error_page(403, "Session expired", "Reload the page and try again.")
        email = form.get("email", "")
        try:
            account = await service.login(
                email,
                form.get("password", ""),
                client_ip=request.client.host if request.client else None,
            )
        except RateLimitedError as exc:
            response = signin_page(
                request,
                session=session,
                status=429,
                error="Too many sign-in attempts; wait a few minutes.",
                email=email,
            )
            response.headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
            return response
        except PlanRequiredError as exc:
            return error_page(403, "Integrations are not included in your plan", exc.message)
        except AuthenticationError:
            return signin_page(
                request,
                session=session,
                status=401,
                error="The email or password is incorrect.",
                email=email,
            )
        response = to_integrations()
        _, cookies = await start_session(request, account.account_id, session)
        for name, value in cookies.items():
            response.set_cookie(
                name,
                value,
                path="/",
                httponly=True,
                secure=secure,
                samesite="lax",
                max_age=SESSION_TTL_SECONDS,
            )
        return response

    @post("/signout", include_in_schema=False, status_code=303)
    async def signout(request: Request[Any, Any, Any]) -> Response[Any]:
        form = dict(await form_of(request))
        session = await current_session(request)
        if not csrf_ok(request, form, session):
            return error_page(403, "Session expired", "Reload the page and try again.")
        if session is not None:
            await sessions.end(session.session_id)
        response = to_signin()
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @get("/settings/integrations", include_in_schema=False)
    async def integrations(request: Request[Any, Any, Any]) -> Response[Any]:
        signed = await signed_in(request)
        if signed is None:
            return to_signin()
        return await integrations_page(request, *signed)

    @post("/settings/integrations/keys", include_in_schema=False, status_code=201)
    async def create_key(request: Request[Any, Any, Any]) -> Response[Any]:
        signed = await signed_in(request)
        if signed is None:
            return to_signin()
        account, session = signed
        form = dict(await form_of(request))
        if not csrf_ok(request, form, session):
            return error_page(403, "Session expired", "Reload the page and try again.")
        try:
            created = await keys.create(
                account.account_id, form.get("name", ""), form.get("scope", "read")
            )
        except InvalidInputError as exc:
            notice = f'<div class="error" role="alert"><p>{html.escape(exc.message)}</p></div>'
            return await integrations_page(request, account, session, notice=notice, status=400)
        notice = (
            '<div role="status"><p>Your new key — copy it now, it will not be shown again:</p>'
            f'<p class="secret">{html.escape(created.plaintext)}</p></div>'
        )
        return await integrations_page(request, account, session, notice=notice, status=201)

    @post(
        "/settings/integrations/keys/{key_id:uuid}/revoke",
        include_in_schema=False,
        status_code=303,
    )
    async def revoke_key(
        request: Request[Any, Any, Any], key_id: FromPath[uuid.UUID]
    ) -> Response[Any]:
        signed = await signed_in(request)
        if signed is None:
            return to_signin()
        account, session = signed
        form = dict(await form_of(request))
        if not csrf_ok(request, form, session):
            return error_page(403, "Session expired", "Reload the page and try again.")
        try:
            await keys.revoke(account.account_id, key_id)
        except NotFoundError:
            return error_page(404, "No such key", "That key does not exist on your account.")
        return to_integrations()

    @post("/settings/integrations/apps/disconnect", include_in_schema=False, status_code=303)
    async def disconnect_app(request: Request[Any, Any, Any]) -> Response[Any]:
        signed = await signed_in(request)
        if signed is None:
            return to_signin()
        account, session = signed
        form = dict(await form_of(request))
        if not csrf_ok(request, form, session):
            return error_page(403, "Session expired", "Reload the page and try again.")
        await service.disconnect(account.account_id, form.get("client_id", ""))
        return to_integrations()

    # --- machine endpoints ------------------------------------------------------------

    @post("/token", include_in_schema=False, status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await form_of(request)
        result = await service.token(_oauth_request(request, form=form))
        return _to_response(result)

    @post("/revoke", include_in_schema=False, status_code=200)
    async def revoke(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await form_of(request)
        result = await service.revoke(_oauth_request(request, form=form))
        return _to_response(result)

    @post(
        "/register",
        include_in_schema=False,
        status_code=201,
        request_max_body_size=MAX_METADATA_BYTES,
    )
    async def register(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            raw = await request.body()
        except RequestEntityTooLarge:
            return _to_response(registration_too_large())
        result = await service.register(_oauth_request(request, body=raw))
        return _to_response(result)

    handlers: list[ControllerRouterHandler] = [
        metadata,
        authorize,
        login,
        consent,
        token,
        revoke,
        register,
        signin_form,
        signin_submit,
        signout,
        integrations,
        create_key,
        revoke_key,
        disconnect_app,
    ]
    if signup is not None:
        handlers += [signup_form, signup_submit]
    if oidc is not None:
        handlers += [oidc_start, oidc_callback]
    return handlers


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def authorize_url(issuer: str, params: dict[str, str]) -> str:
    """Return the ``/authorize`` URL for ``params`` (tests and docs)."""
    return f"{issuer}/authorize?{urlencode(params)}"
