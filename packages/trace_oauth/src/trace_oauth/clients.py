"""OAuth clients: redirect-URI rules, registration metadata, Client ID Metadata Documents.

Real MCP clients register in many shapes (see the client table in the auth
spec): public clients with ``token_endpoint_auth_method: "none"``, unknown or
empty scopes, ``application_type``, missing ``grant_types``/``response_types``.
This module turns what they send into an :class:`~trace_core.credentials.OAuthClient`
and back into the registration response, leaving out empty optional fields
(Claude Code refuses ``""`` and ``null``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import msgspec

from trace_core.credentials import ClientSource, OAuthClient

if TYPE_CHECKING:
    import httpx

__all__ = [
    "MAX_METADATA_BYTES",
    "CimdError",
    "CimdFetcher",
    "ClientMetadataError",
    "decode_client_metadata",
    "is_cimd_client_id",
    "is_loopback_redirect",
    "metadata_too_large",
    "redirect_uri_matches",
    "registration_response",
    "shown",
    "validate_redirect_uri",
]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "::1", "localhost"})
KNOWN_SCOPES = ("read", "full")
SUPPORTED_GRANTS = ("authorization_code", "refresh_token")

# Bounds on what one registration (or metadata document) may store: it is
# unauthenticated, so without them one request could store megabytes.
MAX_METADATA_BYTES = 64 * 1024
"""The largest registration body or client metadata document, in bytes."""
MAX_URI = 2048
"""The longest redirect URI and ``client_uri`` / ``logo_uri`` / ``tos_uri`` / ``policy_uri``."""
MAX_REDIRECT_URIS = 10
MAX_NAME = 200
"""The longest ``client_name``, ``software_id`` and ``software_version``."""
MAX_CONTACTS = 5
MAX_CONTACT = 320
"""The longest contact (an email address is at most 320 characters)."""
MAX_SCOPE = 1000
"""The longest ``scope`` string (only the scopes Trace knows are kept)."""
_MAX_TYPES = 10
_SHOWN_CHARS = 60
# What error messages show of a value: printable ASCII but quote and backslash
# (RFC 6749 §4.1.2.1); '%' stays, as it is how URIs escape.
_MESSAGE_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\')


class ClientMetadataError(ValueError):
    """Client metadata that cannot be accepted (RFC 7591 ``invalid_client_metadata``).

    ``status`` is the HTTP status to answer with: 400, or 413 for a body too large.
    """

    def __init__(
        self, message: str, *, error: str = "invalid_client_metadata", status: int = 400
    ) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.status = status


class CimdError(ClientMetadataError):
    """A client metadata document could not be fetched or is not acceptable."""


def shown(value: str) -> str:
    """Quote an untrusted value for an error message: a short prefix, in ASCII.

    Characters an OAuth error description may not hold (RFC 6749 §4.1.2.1:
    quote, backslash, control and non-ASCII characters) are percent-encoded,
    so no value can break an error answer or make it large.
    """
    prefix = quote(value[:_SHOWN_CHARS], safe=_MESSAGE_SAFE)
    return f"'{prefix}...'" if len(value) > _SHOWN_CHARS else f"'{prefix}'"


def _has_space_or_control(text: str) -> bool:
    return any(c.isspace() or not c.isprintable() for c in text)


def metadata_too_large(what: str = "the registration body") -> ClientMetadataError:
    """Return the error for metadata over :data:`MAX_METADATA_BYTES` (HTTP 413)."""
    return ClientMetadataError(
        f"{what} must be at most {MAX_METADATA_BYTES // 1024} KB", status=413
    )


def decode_client_metadata(raw: bytes, *, what: str = "the registration body") -> dict[str, Any]:
    """Decode a registration body or metadata document: a JSON object of at most 64 KB.

    Raises:
        ClientMetadataError: too large (status 413), not UTF-8 JSON, nested
            too deeply, or not an object.

    """
    if len(raw) > MAX_METADATA_BYTES:
        raise metadata_too_large(what)
    try:
        data = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise ClientMetadataError(f"{what} is not valid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise ClientMetadataError(f"{what} must be a JSON object")
    return data


def is_loopback_redirect(uri: str) -> bool:
    """Return whether ``uri`` is an ``http`` redirect to the local machine."""
    parts = urlsplit(uri)
    return parts.scheme == "http" and (parts.hostname or "") in {"127.0.0.1", "::1", "localhost"}


def validate_redirect_uri(uri: str) -> None:
    """Accept https URIs and http loopback URIs (any port); refuse everything else.

    Raises:
        ClientMetadataError: with ``error="invalid_redirect_uri"``.

    """
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI:
        raise ClientMetadataError(
            f"a redirect URI must be a string of 1 to {MAX_URI} characters",
            error="invalid_redirect_uri",
        )
    if _has_space_or_control(uri):
        # "https://evil.example/cb\r\nSet-Cookie: ..." must never reach a Location header.
        raise ClientMetadataError(
            f"redirect URI {shown(uri)} must not contain spaces or control characters",
            error="invalid_redirect_uri",
        )
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ClientMetadataError(
            f"redirect URI {shown(uri)} is malformed", error="invalid_redirect_uri"
        ) from None
    if parts.username is not None or parts.password is not None:
        # "https://claude.ai@evil.example/cb" would read as claude.ai on a consent page.
        raise ClientMetadataError(
            f"redirect URI {shown(uri)} must not contain a user name or password",
            error="invalid_redirect_uri",
        )
    if parts.fragment or not parts.hostname:
        raise ClientMetadataError(
            f"redirect URI {shown(uri)} must be absolute and have no fragment",
            error="invalid_redirect_uri",
        )
    if parts.scheme == "https" or is_loopback_redirect(uri):
        return
    raise ClientMetadataError(
        f"redirect URI {shown(uri)} must use https (or http on 127.0.0.1, [::1] or localhost)",
        error="invalid_redirect_uri",
    )


def redirect_uri_matches(registered: tuple[str, ...] | list[str], requested: str) -> bool:
    """Return whether ``requested`` is one of the registered redirect URIs.

    Exact string match, except that for loopback URIs the port may differ
    (RFC 8252 §7.3: native apps listen on whatever port is free).
    """
    if requested in registered:
        return True
    if not is_loopback_redirect(requested):
        return False
    want = urlsplit(requested)
    for uri in registered:
        if not is_loopback_redirect(uri):
            continue
        have = urlsplit(uri)
        if (have.hostname, have.path, have.query) == (want.hostname, want.path, want.query):
            return True
    return False


def known_scopes(scope: str | None) -> list[str]:
    """Return the scopes of ``scope`` Trace knows, in order; unknown ones are ignored."""
    if not scope or not isinstance(scope, str):
        return []
    return [s for s in KNOWN_SCOPES if s in scope.split()]


def _str_list(data: Mapping[str, Any], field: str, *, most: int) -> list[str] | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ClientMetadataError(f"{field} must be a list of strings")
    if len(value) > most:
        raise ClientMetadataError(f"{field} may list at most {most} values")
    return value


def _text(data: Mapping[str, Any], field: str, *, most: int, uri: bool = False) -> str | None:
    value = data.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ClientMetadataError(f"{field} must be a string")
    if len(value) > most:
        raise ClientMetadataError(f"{field} must be at most {most} characters")
    if uri and _has_space_or_control(value):
        raise ClientMetadataError(f"{field} must not contain spaces or control characters")
    return value


_URI_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
_SOFTWARE_FIELDS = ("software_id", "software_version")


def _extra_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the other metadata fields worth keeping, each checked and bounded."""
    extra: dict[str, Any] = {}
    for field in _URI_FIELDS:
        if (value := _text(data, field, most=MAX_URI, uri=True)) is not None:
            extra[field] = value
    for field in _SOFTWARE_FIELDS:
        if (value := _text(data, field, most=MAX_NAME)) is not None:
            extra[field] = value
    contacts = _str_list(data, "contacts", most=MAX_CONTACTS) or []
    if any(len(c) > MAX_CONTACT for c in contacts):
        raise ClientMetadataError(f"each of contacts must be at most {MAX_CONTACT} characters")
    if contacts:
        extra["contacts"] = contacts
    return extra


def client_from_metadata(
    data: Mapping[str, Any],
    *,
    client_id: str,
    now: datetime,
    source: ClientSource = "dcr",
    client_secret_hash: str | None = None,
) -> OAuthClient:
    """Validate registration metadata and build the client record.

    Defaults: ``grant_types`` → authorization_code + refresh_token,
    ``response_types`` → code, ``token_endpoint_auth_method`` → none (public:
    every MCP client we know is one; RFC 7591's ``client_secret_basic``
    default would break them). Unknown scopes are dropped.

    Raises:
        ClientMetadataError: missing or bad redirect URIs, unsupported grant,
            response type or authentication method.

    """
    if not isinstance(data, Mapping):
        raise ClientMetadataError("the registration body must be a JSON object")
    redirect_uris = _str_list(data, "redirect_uris", most=MAX_REDIRECT_URIS)
    if not redirect_uris:
        raise ClientMetadataError(
            "redirect_uris is required: list the client's callback URLs",
            error="invalid_redirect_uri",
        )
    for uri in redirect_uris:
        validate_redirect_uri(uri)
    grant_types = _str_list(data, "grant_types", most=_MAX_TYPES)
    grant_types = grant_types or list(SUPPORTED_GRANTS)
    unsupported = [g for g in grant_types if g not in SUPPORTED_GRANTS]
    if unsupported or "authorization_code" not in grant_types:
        raise ClientMetadataError(
            "grant_types must be authorization_code (and refresh_token); "
            f"got {shown(' '.join(grant_types))}"
        )
    response_types = _str_list(data, "response_types", most=_MAX_TYPES) or ["code"]
    if response_types != ["code"]:
        raise ClientMetadataError(
            f'response_types must be ["code"]; got {shown(" ".join(response_types))}'
        )
    method = data.get("token_endpoint_auth_method") or "none"
    if method not in ("none", "client_secret_post", "client_secret_basic"):
        raise ClientMetadataError(
            "token_endpoint_auth_method must be none, client_secret_post or "
            f"client_secret_basic; got {shown(method) if isinstance(method, str) else 'another'}"
        )
    name = data.get("client_name")
    if isinstance(name, str):
        name = _text(data, "client_name", most=MAX_NAME)
    if not isinstance(name, str) or not name.strip():
        name = urlsplit(redirect_uris[0]).hostname or "Unnamed client"
    application_type = data.get("application_type")
    if application_type not in ("web", "native"):
        application_type = None
    scope = _text(data, "scope", most=MAX_SCOPE) if isinstance(data.get("scope"), str) else None
    return OAuthClient(
        client_id=client_id,
        client_name=name.strip(),
        redirect_uris=tuple(redirect_uris),
        grant_types=tuple(grant_types),
        response_types=tuple(response_types),
        token_endpoint_auth_method=method,
        scope=" ".join(known_scopes(scope)) or None,
        application_type=application_type,
        client_secret_hash=client_secret_hash,
        source=source,
        extra=_extra_fields(data),
        created_at=now,
    )


def registration_response(
    client: OAuthClient, *, client_secret: str | None = None
) -> dict[str, Any]:
    """Return the RFC 7591 response body: every non-empty field, the secret only if any."""
    body: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_name": client.client_name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": list(client.grant_types),
        "response_types": list(client.response_types),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
    }
    if client.scope:
        body["scope"] = client.scope
    if client.application_type:
        body["application_type"] = client.application_type
    body.update(client.extra)
    if client_secret:
        body["client_secret"] = client_secret
        body["client_secret_expires_at"] = 0
    return {k: v for k, v in body.items() if v not in (None, "", [], {})}


# --- Client ID Metadata Documents ---------------------------------------------------


def is_cimd_client_id(client_id: str) -> bool:
    """Return whether ``client_id`` is a metadata-document URL (https with a path)."""
    if not client_id.startswith("https://") or len(client_id) > MAX_URI:
        return False
    if _has_space_or_control(client_id):
        return False
    try:
        parts = urlsplit(client_id)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return bool(parts.hostname) and parts.path not in ("", "/") and not parts.fragment


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def _system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


_MAX_AGE = re.compile(r"max-age=(\d+)")


class CimdFetcher:
    """Fetches Client ID Metadata Documents with an SSRF guard, size and time limits.

    The host name is resolved once, every address is checked (no private,
    loopback, link-local or reserved addresses unless ``allow_private``), and
    the request goes to the checked address with the original name as Host
    and TLS server name, so DNS cannot be switched between check and use.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = 5.0,
        max_bytes: int = 64 * 1024,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        min_ttl: timedelta = timedelta(minutes=5),
        max_ttl: timedelta = timedelta(hours=24),
    ) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.transport = transport
        self.resolver = resolver or _system_resolver
        self.min_ttl = min_ttl
        self.max_ttl = max_ttl

    async def fetch(self, url: str, *, now: datetime) -> OAuthClient:
        """Fetch, validate and return the client described at ``url``.

        Raises:
            CimdError: refused address, network error, too big, not JSON,
                ``client_id`` not equal to the URL, no valid redirect URIs,
                or a confidential client.

        """
        if not is_cimd_client_id(url):
            raise CimdError("client_id is not an https URL with a path", error="invalid_client")
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or 443
        try:
            addresses = await self.resolver(host, port)
        except (OSError, UnicodeError) as exc:  # UnicodeError: not a valid IDNA name
            raise CimdError(f"cannot resolve {host}", error="invalid_client") from exc
        if not addresses:
            raise CimdError(f"cannot resolve {host}", error="invalid_client")
        if not self.allow_private and not all(_is_public(a) for a in addresses):
            raise CimdError(
                f"{host} resolves to a private or local address; refused",
                error="invalid_client",
            )
        address = addresses[0]
        netloc = f"[{address}]" if ":" in address else address
        target = parts._replace(netloc=f"{netloc}:{port}").geturl()
        body, cache_control = await self._get(target, host, parts.netloc)
        try:
            data = decode_client_metadata(body, what="the client metadata document")
        except ClientMetadataError as exc:
            raise CimdError(exc.message) from exc
        if data.get("client_id") != url:
            raise CimdError("client_id in the metadata document does not equal its URL")
        if data.get("token_endpoint_auth_method", "none") != "none" or "client_secret" in data:
            raise CimdError("a metadata-document client must be public (auth method none)")
        try:
            client = client_from_metadata(data, client_id=url, now=now, source="cimd")
        except ClientMetadataError as exc:
            raise CimdError(exc.message, error=exc.error) from exc
        return msgspec.structs.replace(client, metadata_expires_at=now + self._ttl(cache_control))

    async def _get(self, target: str, host: str, netloc: str) -> tuple[bytes, str]:
        import httpx  # only when a metadata document is fetched: it is slow to import

        timeout = httpx.Timeout(self.timeout)
        async with httpx.AsyncClient(
            transport=self.transport, timeout=timeout, follow_redirects=False
        ) as http:
            try:
                async with http.stream(
                    "GET",
                    target,
                    headers={"Host": netloc, "Accept": "application/json"},
                    extensions={"sni_hostname": host},
                ) as response:
                    if response.status_code != 200:
                        raise CimdError(
                            f"fetching the client metadata document gave HTTP "
                            f"{response.status_code}"
                        )
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise CimdError("the client metadata document is too large")
                        chunks.append(chunk)
                    return b"".join(chunks), response.headers.get("cache-control", "")
            except httpx.HTTPError as exc:
                raise CimdError("cannot fetch the client metadata document") from exc

    def _ttl(self, cache_control: str) -> timedelta:
        if "no-store" in cache_control or "no-cache" in cache_control:
            return self.min_ttl
        match = _MAX_AGE.search(cache_control)
        ttl = timedelta(seconds=int(match.group(1))) if match else timedelta(hours=1)
        return max(self.min_ttl, min(ttl, self.max_ttl))
