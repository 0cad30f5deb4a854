"""The MCP endpoint in front of the SDK's Streamable HTTP transport.

Every request to ``/``, ``/mcp`` or ``/mcp/`` passes, in this order:

1. **Host** allow-list (421): the public URL's host, loopback names, configured extras;
2. **Origin** check (403) when a browser sends one;
3. **bearer authentication** through the :class:`~trace_core.ports.Authenticator`
   (401 with the ``WWW-Authenticate`` challenge pointing at the Protected Resource
   Metadata for this path; ``error="invalid_token"`` only when a token was sent);
4. **rate limit** per credential (429 with ``Retry-After`` and a JSON-RPC error
   body, "rate limited, retry after N s"): every request spends the key's flood
   guard (``"other"``), before its body is read; a ``tools/call`` also spends the
   key's budget (``"work"``), once its body is decoded;
5. **scope pre-check**: a ``tools/call`` of a write tool with a read-only
   credential answers HTTP 403 ``insufficient_scope`` (what OAuth clients need to
   step up). Core checks the scope again on every write; this only picks the status.

Then the request, with the principal in its ASGI scope, goes to the SDK's
stateless, JSON-response session manager. ``HEAD`` is answered like ``POST`` for
authentication (Gemini CLI probes with it) and with 204 once authenticated; GET
and DELETE answer 405 (stateless: no stream to open, no session to end).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pydantic_core
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from trace_core.errors import AuthenticationError, PlanRequiredError
from trace_core.limits import MAX_ATTACHMENT_BASE64_CHARS
from trace_core.model import Principal, Scope
from trace_core.ports import Authenticator
from trace_http.web.ratelimit import HitKind, RateLimiter, rate_limit_key, retry_after_header
from trace_mcp import DIRECT_PROTOCOL_VERSIONS, PRINCIPAL_SCOPE_KEY, WRITE_TOOLS

__all__ = ["MAX_BODY_BYTES", "McpEndpoint", "ResourceServer"]

logger = logging.getLogger("trace_http.mcp")

ASGIScope = dict[str, Any]
Message = dict[str, Any]

MCP_PATHS = ("/", "/mcp", "/mcp/")

MAX_BODY_BYTES = MAX_ATTACHMENT_BASE64_CHARS + 64 * 1024
"""The largest MCP request body (14,046,552 bytes, about 13.4 MiB): an ``add_attachment``
call carrying the largest image as base64 (13,981,016 characters for 10 MiB) and the rest
of its JSON-RPC message. Read only once the caller is authenticated and within its flood guard."""
RATE_LIMITED_CODE = -32029
"""JSON-RPC error code of a 429 (server-defined range; ``data.code`` is ``rate_limited``)."""
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class ResourceServer(msgspec.Struct, frozen=True, kw_only=True):
    """The resource server's public identity and what it accepts.

    Attributes:
        public_url: the origin people reach the server at, without a trailing slash.
        scopes_supported: the scopes a token may carry.
        allowed_hosts: extra ``Host`` values (``name`` or ``name:port`` or ``name:*``).
        allowed_origins: extra browser origins (``https://app.example.com``; ``:*`` port wildcard).
        max_body_bytes: the largest request body accepted (413 beyond).

    """

    public_url: str
    scopes_supported: tuple[str, ...] = ("read", "full")
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = MAX_BODY_BYTES

    def __post_init__(self) -> None:
        if self.public_url.endswith("/"):
            msgspec.structs.force_setattr(self, "public_url", self.public_url.rstrip("/"))

    def resource_for(self, path: str) -> str:
        """Return the resource identifier for a request path: ``https://HOST`` or ``https://HOST/mcp``."""
        return self.public_url if path.rstrip("/") == "" else f"{self.public_url}/mcp"

    def metadata_url_for(self, path: str) -> str:
        """Return the Protected Resource Metadata URL matching a request path (RFC 9728)."""
        base = f"{self.public_url}/.well-known/oauth-protected-resource"
        return base if path.rstrip("/") == "" else f"{base}/mcp"

    def metadata(self, resource: str) -> dict[str, Any]:
        """Return the Protected Resource Metadata document for ``resource``."""
        return {
            "resource": resource,
            "authorization_servers": [self.public_url],
            "scopes_supported": list(self.scopes_supported),
            "bearer_methods_supported": ["header"],
            "resource_name": "Trace",
        }

    @property
    def _public(self) -> tuple[str, str, int]:
        parts = urlsplit(self.public_url)
        default = 443 if parts.scheme == "https" else 80
        return parts.scheme, (parts.hostname or "").lower(), parts.port or default

    def host_allowed(self, host: str | None) -> bool:
        """Whether a ``Host`` header names this server."""
        if not host:
            return False
        host = host.strip().lower()
        name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        if not name or not port.isdigit():
            name, port = host, ""
        scheme, public_name, public_port = self._public
        default = 443 if scheme == "https" else 80
        if name == public_name and (int(port) if port else default) == public_port:
            return True
        if name in LOOPBACK_HOSTS:
            return True
        return any(_pattern_match(host, name, p.lower()) for p in self.allowed_hosts)

    def origin_allowed(self, origin: str) -> bool:
        """Whether a browser ``Origin`` may call the MCP endpoint."""
        origin = origin.strip().lower().rstrip("/")
        if origin == self.public_url.lower():
            return True
        parts = urlsplit(origin)
        if parts.scheme in ("http", "https") and (parts.hostname or "") in (
            "localhost",
            "127.0.0.1",
            "::1",
        ):
            return True
        return any(
            origin == allowed.lower().rstrip("/")
            or (allowed.endswith(":*") and origin.startswith(allowed.lower()[:-1]))
            for allowed in self.allowed_origins
        )


def _pattern_match(host: str, name: str, pattern: str) -> bool:
    if pattern.endswith(":*"):
        return name == pattern[:-2]
    return host == pattern or name == pattern


def _header(scope: ASGIScope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def challenge(
    rs: ResourceServer, path: str, *, error: str | None = None, scope: str | None = None
) -> str:
    """Build the ``WWW-Authenticate`` value for a 401 or 403 on ``path``."""
    parts = []
    if error:
        parts.append(f'error="{error}"')
    parts.append(f'resource_metadata="{rs.metadata_url_for(path)}"')
    parts.append(f'scope="{scope or " ".join(rs.scopes_supported)}"')
    return "Bearer " + ", ".join(parts)


async def send_json(
    send: Any,
    status: int,
    body: Any,
    headers: Iterable[tuple[str, str]] = (),
    *,
    head: bool = False,
) -> None:
    """Send a complete JSON response (no body for HEAD)."""
    payload = msgspec.json.encode(body)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers),
    ]
    if not head:
        raw_headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": b"" if head else payload})


class _BodyTooLargeError(Exception):
    pass


async def _read_body(receive: Any, limit: int) -> tuple[bytes, list[Message]]:
    """Read the whole request body (up to ``limit`` bytes); keep any trailing message."""
    chunks: list[bytes] = []
    size = 0
    trailing: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            trailing.append(message)
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), trailing


_NOT_JSON = object()


def _decode(body: bytes) -> Any:
    """Decode a request body with the parser the SDK's transport uses, or return ``_NOT_JSON``.

    The same parser accepts and refuses exactly the same bodies (invalid UTF-8,
    lone surrogates, nesting deeper than about 200 levels all raise ``ValueError``), so
    a body the direct path would answer is never one the SDK answers with a
    parse error; bodies it refuses go to the SDK, which answers 400 with the
    JSON-RPC parse error (-32700).
    """
    try:
        return pydantic_core.from_json(body)
    except ValueError:
        return _NOT_JSON


def _accepts_json(scope: ASGIScope) -> bool:
    """Whether the request is JSON and accepts JSON back (the SDK's rules, with wildcards)."""
    content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return False
    accepted = {
        part.split(";")[0].strip().lower() for part in (_header(scope, b"accept") or "").split(",")
    }
    return bool(accepted & {"application/json", "application/*", "*/*"})


def _is_tool_call(message: Any) -> bool:
    """Whether a decoded body carries a ``tools/call`` (alone or in a batch)."""
    if isinstance(message, list):
        return any(_is_tool_call(item) for item in message)
    return isinstance(message, dict) and message.get("method") == "tools/call"


def _request_id(message: Any) -> Any:
    """Return the JSON-RPC id to answer an error with (None for batches and notifications)."""
    if isinstance(message, dict):
        request_id = message.get("id")
        if isinstance(request_id, str | int) and not isinstance(request_id, bool):
            return request_id
    return None


def _write_tool_call(message: Any) -> tuple[str, Any] | None:
    """Return ``(tool name, request id)`` if the message is a ``tools/call`` of a write tool."""
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return None
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    if isinstance(name, str) and name in WRITE_TOOLS:
        return name, message.get("id")
    return None


class McpEndpoint:
    """The ASGI app behind ``/``, ``/mcp`` and ``/mcp/``.

    Args:
        manager: the SDK's session manager (stateless, JSON responses), running.
        resource_server: public URL, scopes, Host/Origin allow-lists.
        authenticator: turns bearer credentials into principals.
        rate_limiter: per-credential limiter (None: no limit).
        fixed_principal: serve every request as this principal without any
            authentication (tests and the conformance suite only).
        direct: answers plain ``tools/call`` and ``ping`` requests of the
            handshake-era protocols without the SDK's per-request transport
            (:meth:`trace_mcp.TraceMcp.answer_directly`); None sends everything to
            the SDK.

    """

    def __init__(
        self,
        *,
        manager: StreamableHTTPSessionManager,
        resource_server: ResourceServer,
        authenticator: Authenticator | None,
        rate_limiter: RateLimiter | None = None,
        fixed_principal: Principal | None = None,
        direct: Callable[[Principal, Any], Awaitable[dict[str, Any] | None]] | None = None,
    ) -> None:
        if authenticator is None and fixed_principal is None:
            raise ValueError("the MCP endpoint needs an authenticator (or a test principal)")
        self.manager = manager
        self.rs = resource_server
        self.authenticator = authenticator
        self.rate_limiter = rate_limiter
        self.fixed_principal = fixed_principal
        self.direct = direct

    async def _authenticate(
        self, scope: ASGIScope, send: Any, path: str, head: bool
    ) -> Principal | None:
        if self.fixed_principal is not None:
            return self.fixed_principal
        assert self.authenticator is not None
        authorization = _header(scope, b"authorization") or ""
        kind, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if kind.lower() != "bearer" or not token:
            await send_json(
                send,
                401,
                {
                    "error": "invalid_token" if authorization else "unauthorized",
                    "error_description": "Authentication required: send "
                    "'Authorization: Bearer <API key or access token>'.",
                },
                [
                    (
                        "WWW-Authenticate",
                        challenge(self.rs, path, error="invalid_token" if authorization else None),
                    )
                ],
                head=head,
            )
            return None
        try:
            return await self.authenticator.authenticate(token, resource=self.rs.resource_for(path))
        except PlanRequiredError as exc:
            await send_json(
                send, 403, {"error": "plan_required", "error_description": exc.message}, head=head
            )
        except AuthenticationError:
            await send_json(
                send,
                401,
                {
                    "error": "invalid_token",
                    "error_description": "The API key or access token is invalid, expired or "
                    "revoked: create a new key (Settings > Integrations, or `trace key create`) "
                    "or reconnect the app.",
                },
                [("WWW-Authenticate", challenge(self.rs, path, error="invalid_token"))],
                head=head,
            )
        return None

    async def __call__(self, scope: ASGIScope, receive: Any, send: Any) -> None:
        """Serve one HTTP request."""
        path = scope.get("path", "/")
        method = scope.get("method", "GET").upper()
        head = method == "HEAD"
        if not self.rs.host_allowed(_header(scope, b"host")):
            await send_json(
                send,
                421,
                {
                    "error": "invalid_host",
                    "error_description": "This server does not answer "
                    "for that host name; check TRACE_PUBLIC_URL / mcp.allowed_hosts.",
                },
                head=head,
            )
            return
        origin = _header(scope, b"origin")
        if origin and not self.rs.origin_allowed(origin):
            await send_json(
                send,
                403,
                {
                    "error": "invalid_origin",
                    "error_description": f"Origin {origin} is not allowed.",
                },
                head=head,
            )
            return
        if method == "OPTIONS":
            # Preflights with an Origin are answered by the CORS middleware; this is a bare OPTIONS.
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [(b"allow", b"GET, POST, DELETE, HEAD, OPTIONS")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        principal = await self._authenticate(scope, send, path, head)
        if principal is None:
            return
        key = rate_limit_key(principal)
        if await self._limited(send, key, "other", None, head=head):
            return
        if head:
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if method != "POST":
            # Stateless: no session to DELETE and no standalone SSE stream to GET (the
            # SDK would hold such a stream open with nothing ever to send on it).
            await send_json(
                send,
                405,
                {
                    "error": "method_not_allowed",
                    "error_description": "This MCP endpoint is stateless: send JSON-RPC "
                    "messages with POST; there is no session stream to GET or DELETE.",
                },
                [("Allow", "POST, HEAD, OPTIONS")],
            )
            return
        try:
            body, trailing = await _read_body(receive, self.rs.max_body_bytes)
        except _BodyTooLargeError:
            await send_json(
                send,
                413,
                {
                    "error": "request_too_large",
                    "error_description": "The request body is too large.",
                },
            )
            return
        message = _decode(body)
        if _is_tool_call(message) and await self._limited(
            send, key, "work", _request_id(message), head=False
        ):
            return
        if not principal.has(Scope.FULL):
            call = _write_tool_call(message)
            if call is not None:
                await self._insufficient_scope(send, path, *call)
                return
        if (
            self.direct is not None
            and message is not _NOT_JSON
            and _header(scope, b"mcp-protocol-version") in DIRECT_PROTOCOL_VERSIONS
            and _accepts_json(scope)
        ):
            answer = await self.direct(principal, message)
            if answer is not None:
                await send_json(send, 200, answer)
                return
        replay: list[Message] = [
            {"type": "http.request", "body": body, "more_body": False},
            *trailing,
        ]

        async def receive_replay() -> Message:
            if replay:
                return replay.pop(0)
            return await receive()  # type: ignore[no-any-return]

        inner = dict(scope)
        inner[PRINCIPAL_SCOPE_KEY] = principal
        await self.manager.handle_request(inner, receive_replay, send)

    async def _limited(
        self, send: Any, key: str, kind: HitKind, request_id: Any, *, head: bool
    ) -> bool:
        """Count a hit; over the limit, answer 429 and return True.

        The body is a JSON-RPC error (the SDK client surfaces its message to the
        caller instead of "Server returned an error response").
        """
        if self.rate_limiter is None:
            return False
        wait = await self.rate_limiter.hit(key, kind)
        if wait is None:
            return False
        seconds = retry_after_header(wait)
        what = "tool calls" if kind == "work" else "requests"
        body = {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {
                "code": RATE_LIMITED_CODE,
                "message": f"rate limited, retry after {seconds} s (too many {what} for this key)",
                "data": {"code": "rate_limited", "retry_after": int(seconds)},
            },
        }
        await send_json(send, 429, body, [("Retry-After", seconds)], head=head)
        return True

    async def _insufficient_scope(self, send: Any, path: str, tool: str, request_id: Any) -> None:
        message = f"{tool} needs the 'full' scope: use a Full Access key or grant."
        body = {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {
                "code": -32001,
                "message": message,
                "data": {"code": "insufficient_scope", "required_scope": "full", "tool": tool},
            },
        }
        await send_json(
            send,
            403,
            body,
            [
                (
                    "WWW-Authenticate",
                    challenge(self.rs, path, error="insufficient_scope", scope="full"),
                )
            ],
        )
