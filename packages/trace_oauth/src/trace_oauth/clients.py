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
import json
import re
import socket
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec

from trace_core.credentials import OAuthClient

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CimdError",
    "CimdFetcher",
    "ClientMetadataError",
    "is_cimd_client_id",
    "is_loopback_redirect",
    "redirect_uri_matches",
    "registration_response",
    "validate_redirect_uri",
]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "::1", "localhost"})
KNOWN_SCOPES = ("read", "full")
SUPPORTED_GRANTS = ("authorization_code", "refresh_token")
MAX_NAME = 200
MAX_REDIRECT_URIS = 20


class ClientMetadataError(ValueError):
    """Client metadata that cannot be accepted (RFC 7591 ``invalid_client_metadata``)."""

    def __init__(self, message: str, *, error: str = "invalid_client_metadata") -> None:
        super().__init__(message)
        self.error = error
        self.message = message


class CimdError(ClientMetadataError):
    """A client metadata document could not be fetched or is not acceptable."""


def is_loopback_redirect(uri: str) -> bool:
    """Return whether ``uri`` is an ``http`` redirect to the local machine."""
    parts = urlsplit(uri)
    return parts.scheme == "http" and (parts.hostname or "") in {"127.0.0.1", "::1", "localhost"}


def validate_redirect_uri(uri: str) -> None:
    """Accept https URIs and http loopback URIs (any port); refuse everything else.

    Raises:
        ClientMetadataError: with ``error="invalid_redirect_uri"``.

    """
    if not isinstance(uri, str) or not uri or len(uri) > 2000:
        raise ClientMetadataError("redirect URI is empty or too long", error="invalid_redirect_uri")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ClientMetadataError(
            f"redirect URI {uri!r} is malformed", error="invalid_redirect_uri"
        ) from None
    if parts.username is not None or parts.password is not None:
        # "https://claude.ai@evil.example/cb" would read as claude.ai on a consent page.
        raise ClientMetadataError(
            f"redirect URI {uri!r} must not contain a user name or password",
            error="invalid_redirect_uri",
        )
    if parts.fragment or not parts.hostname:
        raise ClientMetadataError(
            f"redirect URI {uri!r} must be absolute and have no fragment",
            error="invalid_redirect_uri",
        )
    if parts.scheme == "https" or is_loopback_redirect(uri):
        return
    raise ClientMetadataError(
        f"redirect URI {uri!r} must use https (or http on 127.0.0.1, [::1] or localhost)",
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


def _str_list(data: Mapping[str, Any], field: str) -> list[str] | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ClientMetadataError(f"{field} must be a list of strings")
    return value


_EXTRA_FIELDS = (
    "client_uri",
    "logo_uri",
    "tos_uri",
    "policy_uri",
    "software_id",
    "software_version",
    "contacts",
)


def client_from_metadata(
    data: Mapping[str, Any],
    *,
    client_id: str,
    now: datetime,
    source: str = "dcr",
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
    redirect_uris = _str_list(data, "redirect_uris")
    if not redirect_uris:
        raise ClientMetadataError(
            "redirect_uris is required: list the client's callback URLs",
            error="invalid_redirect_uri",
        )
    if len(redirect_uris) > MAX_REDIRECT_URIS:
        raise ClientMetadataError(f"at most {MAX_REDIRECT_URIS} redirect_uris")
    for uri in redirect_uris:
        validate_redirect_uri(uri)
    grant_types = _str_list(data, "grant_types") or list(SUPPORTED_GRANTS)
    unsupported = [g for g in grant_types if g not in SUPPORTED_GRANTS]
    if unsupported or "authorization_code" not in grant_types:
        raise ClientMetadataError(
            f"grant_types must be authorization_code (and refresh_token); got {grant_types}"
        )
    response_types = _str_list(data, "response_types") or ["code"]
    if response_types != ["code"]:
        raise ClientMetadataError(f'response_types must be ["code"]; got {response_types}')
    method = data.get("token_endpoint_auth_method") or "none"
    if method not in ("none", "client_secret_post", "client_secret_basic"):
        raise ClientMetadataError(
            f"token_endpoint_auth_method {method!r} is not supported "
            "(none, client_secret_post, client_secret_basic)"
        )
    name = data.get("client_name")
    if not isinstance(name, str) or not name.strip():
        name = urlsplit(redirect_uris[0]).hostname or "Unnamed client"
    application_type = data.get("application_type")
    if application_type is not None and application_type not in ("web", "native"):
        application_type = None
    scopes = known_scopes(data.get("scope") if isinstance(data.get("scope"), str) else None)
    extra = {k: data[k] for k in _EXTRA_FIELDS if k in data and data[k] not in (None, "", [], {})}
    return OAuthClient(
        client_id=client_id,
        client_name=name.strip()[:MAX_NAME],
        redirect_uris=tuple(redirect_uris),
        grant_types=tuple(grant_types),
        response_types=tuple(response_types),
        token_endpoint_auth_method=method,
        scope=" ".join(scopes) or None,
        application_type=application_type,
        client_secret_hash=client_secret_hash,
        source=source,  # type: ignore[arg-type]
        extra=extra,
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
    if not client_id.startswith("https://"):
        return False
    parts = urlsplit(client_id)
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
        except OSError as exc:
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
            data = json.loads(body)
        except ValueError as exc:
            raise CimdError("the client metadata document is not JSON") from exc
        if not isinstance(data, dict):
            raise CimdError("the client metadata document is not a JSON object")
        if data.get("client_id") != url:
            raise CimdError("client_id in the metadata document does not equal its URL")
        if data.get("token_endpoint_auth_method", "none") != "none" or "client_secret" in data:
            raise CimdError("a metadata-document client must be public (auth method none)")
        client = client_from_metadata(data, client_id=url, now=now, source="cimd")
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
