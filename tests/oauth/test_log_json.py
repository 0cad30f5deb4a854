"""``log.format = "json"``: every line is one JSON object, and none holds a secret.

The server's logging configuration (:func:`trace_http.web.logformat.logging_config`,
what ``trace serve`` hands uvicorn) is applied with the secret filter, its
handlers write to a buffer, and a session of real traffic runs through the app:
a sign-in with a password (which sets cookies), the OAuth flow (client secret,
code, access and refresh tokens), an API key, MCP calls carrying entry text,
refused credentials. Then each line must parse as JSON, the access lines carry
the request id, and no key, token, password, cookie or entry text appears.
"""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import pytest
from oauth_support import PASSWORD, AuthServer, sign_in

from trace_http.web.logformat import APP_LOGGERS, logging_config
from trace_http.web.logs import RedactSecrets, redact_secrets_in_logs

pytestmark = pytest.mark.anyio

ENTRY_TEXT = "Met Oriane at the Vaugirard bakery"
LOGGERS = (*APP_LOGGERS, "uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture(params=["info", "debug"])
def json_log(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """Configure the server's JSON logging at the parametrized level; yield what it writes."""
    saved = {
        name: (list(lg.handlers), lg.level, lg.propagate)
        for name in LOGGERS
        for lg in [logging.getLogger(name)]
    }
    logging.config.dictConfig(logging_config(request.param, "json"))
    secret_filter = redact_secrets_in_logs()
    buffer = io.StringIO()
    for name in LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(buffer)
    yield buffer
    for name, (handlers, level, propagate) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
    for lg in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(lg, "handlers", []):
            for f in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
                handler.removeFilter(f)
    assert isinstance(secret_filter, RedactSecrets)


def _mcp(token: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "headers": {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
        },
        "content": json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": tool, "arguments": arguments},
            }
        ),
    }


async def test_json_log_lines_parse_and_hold_no_secret(
    server: AuthServer, json_log: io.StringIO
) -> None:
    client = server.client
    await sign_in(client)
    cookies = [cookie.value for cookie in client.cookies.jar]
    assert cookies
    flow, tokens = await server.tokens()
    key = (await server.keys.create(server.alice.account_id, "laptop", "full")).plaintext
    for token in (key, tokens["access_token"]):
        answer = await client.post("/mcp", **_mcp(token, "create_entry", {"content": ENTRY_TEXT}))
        assert answer.status_code == 200, answer.text
    refused = await client.post("/mcp", **_mcp(key[:-4] + "AAAA", "list_streams", {}))
    assert refused.status_code == 401
    await client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"] + "x"},
    )
    wrong = await client.post("/signin", data={"email": "alice@example.com", "password": PASSWORD})
    assert wrong.status_code in (401, 403)
    await client.get("/attachments/x", params={"account": "a", "expires": "1", "sig": "s3cr3tsig"})

    text = json_log.getvalue()
    lines = text.splitlines()
    assert len(lines) >= 8
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [e for e in events if e["logger"] == "trace_http.access"]
    assert len(access) >= 8
    assert all(e["request_id"] and e["status"] and e["path"] for e in access)
    assert {"timestamp", "level", "event"} <= access[0].keys()
    assert any(e.get("tool") == "create_entry" for e in access)
    secrets = [
        key,
        tokens["access_token"],
        tokens["refresh_token"],
        PASSWORD,
        ENTRY_TEXT,
        "Oriane",
        "s3cr3tsig",
        *cookies,
    ]
    if flow.client_secret:
        secrets.append(flow.client_secret)
    for secret in secrets:
        assert secret not in text, secret[:12]
