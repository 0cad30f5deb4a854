"""Settings → Account (name, password) and Settings → Data (export download, import upload).

Settings → Integrations (API keys, connected apps) is the OAuth pages' room:
:mod:`trace_http.web.oauth.integrations`.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency

from trace_core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    PlanRequiredError,
    RateLimitedError,
)
from trace_core.transfer import decode_document, encode_document, export_account, import_account
from trace_http.web.oauth._pages import client_ip
from trace_http.web.pages._web import Signed, Web
from trace_oauth.sessions import set_password

__all__ = ["SettingsController"]

IMPORT_MAX_BODY = 512 * 1024 * 1024
"""The largest export document the import form takes (images are inside it, base64)."""


@cache
def _zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


class SettingsController(Controller):
    """``/settings/account`` and ``/settings/data``."""

    path = "/settings"
    include_in_schema = False

    def _account(
        self, web: Web, signed: Signed, *, status: int = 200, error: str = "", notice: str = ""
    ) -> Response[Any]:
        return web.render("account.html", signed, status=status, error=error, notice=notice)

    @get("/account")
    async def account(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Show the account page: name and password."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        return self._account(web, signed)

    @post("/account", status_code=200)
    async def save_account(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Save the display name."""
        posted = await web.posted(request)
        if isinstance(posted, Response):
            return posted
        signed, form = posted
        try:
            account = await web.trace.update_account(
                signed.account.account_id, name=form.get("name", "").strip() or None
            )
        except InvalidInputError as exc:
            return self._account(web, signed, status=400, error=exc.message)
        return self._account(web, signed._replace(account=account), notice="Saved.")

    @post("/password", status_code=200)
    async def change_password(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Change the password (the current one first); every other session ends."""
        posted = await web.posted(request)
        if isinstance(posted, Response):
            return posted
        signed, form = posted
        new = form.get("new_password", "")
        if new != form.get("confirm_password", ""):
            return self._account(
                web, signed, status=400, error="confirm_password: the two new passwords differ."
            )
        try:
            await web.oauth.login(
                signed.account.email,
                form.get("current_password", ""),
                client_ip=client_ip(request),
                for_integrations=False,
            )
            password_hash = await web.oauth.passwords.hash(new)
        except (AuthenticationError, PlanRequiredError):
            return self._account(
                web, signed, status=400, error="current_password: that is not your password."
            )
        except RateLimitedError:
            return self._account(
                web, signed, status=429, error="Too many attempts: wait a few minutes."
            )
        except InvalidInputError as exc:
            return self._account(web, signed, status=400, error=f"new_password: {exc.message}")
        await set_password(
            web.trace, web.runtime.credentials, signed.account.account_id, password_hash
        )
        session, cookies = await web.pages.start_session(signed.account.account_id, None)
        signed = signed._replace(session=session)
        response = self._account(
            web, signed, notice="Password changed; every other sign-in has ended."
        )
        web.pages.set_cookies(response, cookies)
        return response

    @post("/time-zone", status_code=200)
    async def set_time_zone(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Set the zone dates are shown in and "today" is counted in (an IANA name)."""
        posted = await web.posted(request)
        if isinstance(posted, Response):
            return posted
        signed, form = posted
        try:
            await web.trace.set_time_zone(signed.principal, form.get("time_zone", "").strip())
        except InvalidInputError as exc:
            return self._account(web, signed, status=400, error=exc.message)
        account = await web.trace.get_account(signed.account.account_id)
        return self._account(
            web,
            signed._replace(account=account),
            notice=f"Time zone set to {account.time_zone}.",
        )

    # --- data ------------------------------------------------------------------

    @get("/data")
    async def data(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Export and import."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        return web.render("data.html", signed)

    @get("/data/export")
    async def export(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Download everything the account owns as one JSON document."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        trace = web.trace
        document = await export_account(
            trace.storage, trace.blobs, signed.account, exported_at=trace.clock.now()
        )
        day = trace.clock.now().date().isoformat()
        return Response(
            content=encode_document(document),
            media_type="application/json",
            headers={
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'attachment; filename="trace-export-{day}.json"',
            },
        )

    @post("/data/import", status_code=200, request_max_body_size=IMPORT_MAX_BODY)
    async def import_(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Import a Trace export document into this account."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        form = await request.form()
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        if not web.pages.csrf_ok(request, fields, signed.session):
            return web.pages.session_expired()
        upload = form.get("document")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return web.render(
                "data.html", signed, status=400, error="document: choose an export file (.json)."
            )
        trace = web.trace
        try:
            document = decode_document(await upload.read())
            summary = await import_account(
                trace.storage, trace.blobs, signed.account.account_id, document, search=trace.search
            )
        except (InvalidInputError, ConflictError) as exc:
            return web.render("data.html", signed, status=400, error=exc.message)
        return web.render(
            "data.html",
            signed,
            notice=f"Imported {summary.entries} entries, {summary.streams} streams, "
            f"{summary.versions} versions and {summary.attachments} images.",
        )
