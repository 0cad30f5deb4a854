"""Settings → Integrations: a signed-in person's API keys and connected apps."""

from __future__ import annotations

import html
import json
import uuid
from string import Template
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from trace_core.errors import InvalidInputError, NotFoundError
from trace_core.model import Account, Scope
from trace_http.web.oauth._pages import Pages, Session, form_of, when
from trace_oauth.api_keys import ApiKeyService
from trace_oauth.server import AuthorizationService

__all__ = ["IntegrationsController"]

SIGN_IN = "/signin"
HOME = "/settings/integrations"


def _access(scope: Scope) -> str:
    return "Full Access" if scope is Scope.FULL else "Read Only"


def client_configs(mcp_url: str, key: str = "trace_YOUR_KEY") -> list[tuple[str, str, str]]:
    """Return ``(client, where it goes, text)`` for the clients people paste a key into."""
    desktop = json.dumps(
        {
            "mcpServers": {
                "trace": {
                    "command": "npx",
                    "args": [
                        "-y",
                        "mcp-remote",
                        mcp_url,
                        "--header",
                        "Authorization:${TRACE_AUTH}",
                    ],
                    "env": {"TRACE_AUTH": f"Bearer {key}"},
                }
            }
        },
        indent=2,
    )
    gemini = json.dumps(
        {
            "mcpServers": {
                "trace": {"httpUrl": mcp_url, "headers": {"Authorization": f"Bearer {key}"}}
            }
        },
        indent=2,
    )
    code = f'claude mcp add --transport http trace {mcp_url} --header "Authorization: Bearer {key}"'
    return [
        (
            "Claude Desktop",
            "claude_desktop_config.json (Settings → Developer → Edit Config)",
            desktop,
        ),
        ("Claude Code", "run in a terminal", code),
        ("Gemini CLI", "~/.gemini/settings.json", gemini),
    ]


def configs_html(mcp_url: str, key: str = "trace_YOUR_KEY") -> str:
    """Return the ready-to-copy client configurations as HTML (escaped), with copy buttons."""
    blocks = []
    for i, (client, where, text) in enumerate(client_configs(mcp_url, key)):
        block_id = f"config-{i}"
        blocks.append(
            f'<h3>{html.escape(client)}</h3><p class="hint">{html.escape(where)}</p>'
            f'<pre class="config" id="{block_id}">{html.escape(text)}</pre>'
            f'<button type="button" class="secondary" data-copy="{block_id}">'
            f"Copy {html.escape(client)} configuration</button>"
        )
    return "".join(blocks)


def confirm_html(question: str, action: str, csrf: str, label: str, hidden: str = "") -> str:
    """Return a confirmation form: the destructive POST, and a way back."""
    return (
        f"<h1>{html.escape(question)}</h1>"
        f'<form method="post" action="{html.escape(action, quote=True)}">'
        f'<input type="hidden" name="csrf_token" value="{html.escape(csrf, quote=True)}">{hidden}'
        f'<div class="actions"><button class="primary" type="submit">{html.escape(label)}</button>'
        f'<a class="button" href="{HOME}">Cancel</a></div></form>'
    )


async def integrations_page(
    request: Request[Any, Any, Any],
    pages: Pages,
    oauth: AuthorizationService,
    api_keys: ApiKeyService,
    account: Account,
    session: Session,
    *,
    notice: str = "",
    status: int = 200,
) -> Response[str]:
    """Render the page: keys (create, revoke), apps (disconnect), forms with CSRF tokens."""
    csrf, cookies = pages.csrf_for(request, session)
    rows = []
    for key in await api_keys.list_keys(account.account_id):
        action = (
            f'<a class="button" href="{HOME}/keys/{key.key_id}/revoke" '
            f'aria-label="Revoke {html.escape(key.name)}">Revoke</a>'
            if key.revoked_at is None
            else f"revoked {when(key.revoked_at)}"
        )
        rows.append(
            f"<tr><td>{html.escape(key.name)}</td><td><code>{html.escape(key.prefix)}…</code>"
            f"</td><td>{_access(key.scope)}</td>"
            f"<td>{when(key.created_at)}</td><td>{when(key.last_used_at) or 'never'}</td>"
            f"<td>{action}</td></tr>"
        )
    keys_html = (
        "<table><thead><tr><th>Name</th><th>Key</th><th>Access</th><th>Created</th>"
        "<th>Last used</th><th></th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows
        else '<p class="hint">No API keys yet.</p>'
    )
    apps = []
    for client, token in await oauth.connected_apps(account.account_id):
        apps.append(
            f"<tr><td>{html.escape(client.client_name)}</td>"
            f"<td>{_access(token.scope)}</td>"
            f"<td>{when(token.issued_at)}</td><td>"
            f'<a class="button" href="{HOME}/apps/disconnect?'
            f'{html.escape(urlencode({"client_id": client.client_id}), quote=True)}" '
            f'aria-label="Disconnect {html.escape(client.client_name)}">Disconnect</a>'
            "</td></tr>"
        )
    apps_html = (
        "<table><thead><tr><th>App</th><th>Access</th><th>Last authorized</th><th></th>"
        "</tr></thead><tbody>" + "".join(apps) + "</tbody></table>"
        if apps
        else '<p class="hint">No apps are connected.</p>'
    )
    return pages.page(
        status,
        "Integrations",
        pages.templates.integrations,
        cookies=cookies,
        wide=True,
        email=account.email,
        mcp_url=f"{pages.public_url}/mcp",
        csrf=csrf,
        _notice=notice,
        _keys=keys_html,
        _apps=apps_html,
        _configs=configs_html(f"{pages.public_url}/mcp"),
    )


class IntegrationsController(Controller):
    """``/settings/integrations``: behind ``/signin``; every POST checks the CSRF token."""

    path = HOME
    include_in_schema = False

    @get()
    async def show(
        self,
        request: Request[Any, Any, Any],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
        api_keys: NamedDependency[ApiKeyService],
    ) -> Response[Any]:
        """Show the page (signed out: go and sign in)."""
        signed = await pages.signed_in(request, oauth)
        if signed is None:
            return pages.redirect(SIGN_IN)
        return await integrations_page(request, pages, oauth, api_keys, *signed)

    @post("/keys", status_code=201)
    async def create_key(
        self,
        request: Request[Any, Any, Any],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
        api_keys: NamedDependency[ApiKeyService],
    ) -> Response[Any]:
        """Create a key and show it once."""
        signed = await pages.signed_in(request, oauth)
        if signed is None:
            return pages.redirect(SIGN_IN)
        account, session = signed
        form = dict(await form_of(request))
        if not pages.csrf_ok(request, form, session):
            return pages.session_expired()
        try:
            created = await api_keys.create(
                account.account_id, form.get("name", ""), form.get("scope", "read")
            )
        except InvalidInputError as exc:
            notice = f'<div class="error" role="alert"><p>{html.escape(exc.message)}</p></div>'
            return await integrations_page(
                request, pages, oauth, api_keys, account, session, notice=notice, status=400
            )
        notice = (
            '<div role="status"><p>Your new key — copy it now, it will not be shown again:</p>'
            f'<p id="new-key" class="secret">{html.escape(created.plaintext)}</p>'
            '<button type="button" class="secondary" data-copy="new-key">Copy key</button>'
            "<p>Or copy a client's configuration with the key in it:</p>"
            f"{configs_html(f'{pages.public_url}/mcp', created.plaintext)}</div>"
        )
        return await integrations_page(
            request, pages, oauth, api_keys, account, session, notice=notice, status=201
        )

    @get("/keys/{key_id:uuid}/revoke")
    async def confirm_revoke(
        self,
        request: Request[Any, Any, Any],
        key_id: FromPath[uuid.UUID],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
        api_keys: NamedDependency[ApiKeyService],
    ) -> Response[Any]:
        """Ask before revoking a key."""
        signed = await pages.signed_in(request, oauth)
        if signed is None:
            return pages.redirect(SIGN_IN)
        account, session = signed
        keys = {k.key_id: k for k in await api_keys.list_keys(account.account_id)}
        key = keys.get(key_id)
        if key is None or key.revoked_at is not None:
            return pages.error_page(404, "No such key", "That key does not exist on your account.")
        csrf, _ = pages.csrf_for(request, session)
        body = confirm_html(
            f"Revoke the key “{key.name}”? Whatever uses it stops working at once.",
            f"{HOME}/keys/{key_id}/revoke",
            csrf,
            "Revoke key",
        )
        return pages.page(200, "Revoke key", Template("$body"), _body=body)

    @get("/apps/disconnect")
    async def confirm_disconnect(
        self,
        request: Request[Any, Any, Any],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
    ) -> Response[Any]:
        """Ask before disconnecting an app."""
        signed = await pages.signed_in(request, oauth)
        if signed is None:
            return pages.redirect(SIGN_IN)
        account, session = signed
        client_id = request.query_params.get("client_id", "")
        apps = {c.client_id: c for c, _ in await oauth.connected_apps(account.account_id)}
        client = apps.get(client_id)
        if client is None:
            return pages.error_page(
                404, "No such app", "That app is not connected to your account."
            )
        csrf, _ = pages.csrf_for(request, session)
        hidden = (
            '<input type="hidden" name="client_id" '
            f'value="{html.escape(client.client_id, quote=True)}">'
        )
        body = confirm_html(
            f"Disconnect “{client.client_name}”? It loses access until you connect it again.",
            f"{HOME}/apps/disconnect",
            csrf,
            "Disconnect app",
            hidden,
        )
        return pages.page(200, "Disconnect app", Template("$body"), _body=body)

    @post("/keys/{key_id:uuid}/revoke", status_code=303)
    async def revoke_key(
        self,
        request: Request[Any, Any, Any],
        key_id: FromPath[uuid.UUID],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
        api_keys: NamedDependency[ApiKeyService],
    ) -> Response[Any]:
        """Revoke one of the person's keys."""
        signed = await pages.signed_in(request, oauth)
        if signed is None:
            return pages.redirect(SIGN_IN)
        account, session = signed
        form = dict(await form_of(request))
        if not pages.csrf_ok(request, form, session):
            return pages.session_expired()
        try:
            await api_keys.revoke(account.account_id, key_id)
        except NotFoundError:
            return pages.error_page(404, "No such key", "That key does not exist on your account.")
        return pages.redirect(HOME)

    @post("/apps/disconnect", status_code=303)
    async def disconnect_app(
        self,
        request: Request[Any, Any, Any],
        pages: NamedDependency[Pages],
        oauth: NamedDependency[AuthorizationService],
    ) -> Response[Any]:
        """Revoke every grant of one connected app."""
        signed = await pages.signed_in(request, oauth)
        if signed is None:
            return pages.redirect(SIGN_IN)
        account, session = signed
        form = dict(await form_of(request))
        if not pages.csrf_ok(request, form, session):
            return pages.session_expired()
        await oauth.disconnect(account.account_id, form.get("client_id", ""))
        return pages.redirect(HOME)
