"""Client ID Metadata Documents: an https client_id is fetched, checked and cached."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from oauth_support import ISSUER, AuthServer, Flow

from trace_oauth.clients import CimdError, CimdFetcher
from trace_oauth.config import OAuthConfig

APP = "https://app.example.com/oauth/client.json"
CALLBACK = "https://app.example.com/callback"

PUBLIC_IP = "93.184.216.34"
ADDRESSES = {
    "app.example.com": [PUBLIC_IP],
    "internal.example.com": ["10.0.0.5"],
    "loopback.example.com": ["127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": [PUBLIC_IP, "192.168.1.10"],
    "v6.example.com": ["::1"],
}


class Documents:
    """A fake web: documents by URL, with a fetch counter."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.fetches: list[str] = []

    def put(self, url: str, doc: Any, *, status: int = 200, cache: str = "max-age=600") -> None:
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        self.docs[url] = (status, body, {"cache-control": cache})

    def handler(self, request: httpx.Request) -> httpx.Response:
        # The fetcher connects to the checked IP and sends the name as Host.
        assert request.url.host in {a for addrs in ADDRESSES.values() for a in addrs}
        url = f"https://{request.headers['host']}{request.url.path}"
        self.fetches.append(url)
        status, body, headers = self.docs.get(url, (404, b"", {}))
        return httpx.Response(status, content=body, headers=headers)


async def resolver(host: str, port: int) -> list[str]:
    if host not in ADDRESSES:
        raise OSError("no such host")
    return ADDRESSES[host]


@pytest.fixture
def documents() -> Documents:
    docs = Documents()
    docs.put(
        APP,
        {
            "client_id": APP,
            "client_name": "Example App",
            "client_uri": "https://app.example.com",
            "redirect_uris": [CALLBACK],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
    )
    return docs


@pytest.fixture
def cimd_fetcher(documents: Documents) -> CimdFetcher:
    return CimdFetcher(transport=httpx.MockTransport(documents.handler), resolver=resolver)


@pytest.mark.anyio
async def test_a_metadata_document_client_completes_the_flow_without_registering(
    server: AuthServer,
) -> None:
    flow = Flow(APP, redirect_uri=CALLBACK)
    consent = await server.login(flow)
    assert "Example App" in consent
    answer = await server.authorize(flow)
    response = await server.exchange(flow, answer["code"])
    assert response.status_code == 200, response.text
    principal = await server.auth.authenticate(response.json()["access_token"])
    assert principal.actor == "Example App"


@pytest.mark.anyio
async def test_the_document_is_cached_by_its_http_headers(
    server: AuthServer, documents: Documents
) -> None:
    flow = Flow(APP, redirect_uri=CALLBACK)
    for _ in range(3):
        assert (await server.client.get("/authorize", params=flow.params())).status_code == 200
    assert documents.fetches == [APP]
    server.clock.advance(minutes=11)
    await server.client.get("/authorize", params=flow.params())
    assert documents.fetches == [APP, APP]


@pytest.mark.anyio
async def test_a_redirect_uri_not_listed_in_the_document_is_an_error_page(
    server: AuthServer,
) -> None:
    flow = Flow(APP, redirect_uri="https://app.example.com/other")
    page = await server.client.get("/authorize", params=flow.params())
    assert page.status_code == 400
    assert "location" not in page.headers


@pytest.mark.anyio
async def test_a_document_whose_client_id_differs_from_its_url_is_refused(
    server: AuthServer, documents: Documents
) -> None:
    url = "https://app.example.com/oauth/liar.json"
    documents.put(url, {"client_id": APP, "redirect_uris": [CALLBACK], "client_name": "Liar"})
    page = await server.client.get("/authorize", params=Flow(url, redirect_uri=CALLBACK).params())
    assert page.status_code == 400
    assert "location" not in page.headers


@pytest.mark.anyio
@pytest.mark.parametrize(
    "host",
    [
        "internal.example.com",
        "loopback.example.com",
        "metadata.example.com",
        "mixed.example.com",
        "v6.example.com",
    ],
)
async def test_documents_on_private_loopback_or_link_local_addresses_are_not_fetched(
    documents: Documents, host: str
) -> None:
    url = f"https://{host}/client.json"
    documents.put(url, {"client_id": url, "redirect_uris": [CALLBACK]})
    fetcher = CimdFetcher(transport=httpx.MockTransport(documents.handler), resolver=resolver)
    with pytest.raises(CimdError):
        await fetcher.fetch(url, now=datetime.now(UTC))
    assert documents.fetches == []


@pytest.mark.anyio
async def test_a_private_address_is_an_error_page_at_authorize(server: AuthServer) -> None:
    url = "https://internal.example.com/client.json"
    page = await server.client.get("/authorize", params=Flow(url, redirect_uri=CALLBACK).params())
    assert page.status_code == 400


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("doc", "status"),
    [
        (b"x" * (70 * 1024), 200),
        (b"not json", 200),
        (b"[1, 2]", 200),
        (b"{}", 404),
    ],
    ids=["too-large", "not-json", "not-an-object", "http-404"],
)
async def test_oversized_malformed_or_missing_documents_are_refused(
    documents: Documents, doc: bytes, status: int
) -> None:
    url = "https://app.example.com/bad.json"
    documents.put(url, doc, status=status)
    fetcher = CimdFetcher(transport=httpx.MockTransport(documents.handler), resolver=resolver)
    with pytest.raises(CimdError):
        await fetcher.fetch(url, now=datetime.now(UTC))


@pytest.mark.anyio
async def test_a_confidential_client_document_is_refused(documents: Documents) -> None:
    url = "https://app.example.com/confidential.json"
    documents.put(
        url,
        {
            "client_id": url,
            "redirect_uris": [CALLBACK],
            "token_endpoint_auth_method": "client_secret_basic",
        },
    )
    fetcher = CimdFetcher(transport=httpx.MockTransport(documents.handler), resolver=resolver)
    with pytest.raises(CimdError):
        await fetcher.fetch(url, now=datetime.now(UTC))


@pytest.mark.anyio
async def test_private_addresses_can_be_allowed_for_tests(documents: Documents) -> None:
    url = "https://loopback.example.com/client.json"
    documents.put(url, {"client_id": url, "redirect_uris": [CALLBACK], "client_name": "Local"})
    fetcher = CimdFetcher(
        transport=httpx.MockTransport(documents.handler), resolver=resolver, allow_private=True
    )
    client = await fetcher.fetch(url, now=datetime.now(UTC))
    assert client.client_name == "Local"
    assert client.source == "cimd"


@pytest.mark.anyio
@pytest.mark.parametrize("oauth_config", [OAuthConfig(issuer=ISSUER, cimd_enabled=False)])
async def test_with_metadata_documents_off_an_https_client_id_is_unknown(
    server: AuthServer, documents: Documents
) -> None:
    meta = (await server.client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["client_id_metadata_document_supported"] is False
    page = await server.client.get("/authorize", params=Flow(APP, redirect_uri=CALLBACK).params())
    assert page.status_code == 400
    assert documents.fetches == []


def _fetcher(documents: Documents, resolve: Any = resolver) -> CimdFetcher:
    return CimdFetcher(transport=httpx.MockTransport(documents.handler), resolver=resolve)


BOUNDED_URL = "https://app.example.com/bounded.json"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"client_uri": "https://app.example.com/" + "a" * 10_000}, "client_uri"),
        ({"logo_uri": "https://app.example.com/" + "a" * 10_000}, "logo_uri"),
        ({"contacts": ["a@example.com"] * 6}, "contacts"),
        ({"software_id": "s" * 1000}, "software_id"),
        ({"client_name": "n" * 1000}, "client_name"),
        ({"redirect_uris": [f"{CALLBACK}{i}" for i in range(11)]}, "redirect_uris"),
        ({"redirect_uris": [f"{CALLBACK}\r\nSet-Cookie: x=1"]}, "redirect URI"),
    ],
)
async def test_a_metadata_document_gets_the_same_field_bounds_as_a_registration(
    documents: Documents, change: dict[str, Any], field: str
) -> None:
    documents.put(BOUNDED_URL, {"client_id": BOUNDED_URL, "redirect_uris": [CALLBACK], **change})
    with pytest.raises(CimdError) as info:
        await _fetcher(documents).fetch(BOUNDED_URL, now=datetime.now(UTC))
    assert field in info.value.message


@pytest.mark.anyio
@pytest.mark.parametrize(
    "doc",
    [b"[" * 5000 + b"]" * 5000, b'{"client_id": "\xff"}'],
    ids=["deeply-nested", "invalid-utf8"],
)
async def test_a_deeply_nested_or_non_utf8_document_is_refused(
    documents: Documents, doc: bytes
) -> None:
    documents.put(BOUNDED_URL, doc)
    with pytest.raises(CimdError):
        await _fetcher(documents).fetch(BOUNDED_URL, now=datetime.now(UTC))


@pytest.mark.anyio
async def test_a_document_with_a_bad_redirect_uri_is_an_error_page_at_authorize(
    server: AuthServer, documents: Documents
) -> None:
    bad = f"{CALLBACK}\r\nSet-Cookie: x=1"
    documents.put(BOUNDED_URL, {"client_id": BOUNDED_URL, "redirect_uris": [bad]})
    flow = Flow(BOUNDED_URL, redirect_uri=CALLBACK)
    page = await server.client.get("/authorize", params=flow.params())
    assert page.status_code == 400
    assert "location" not in page.headers
    assert await server.credentials.get_client(BOUNDED_URL) is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    "client_id",
    [
        "https://app.example.com:99999/client.json",
        "https://[not-an-address/client.json",
        "https://app.example.com/client.json\r\nX-Evil: 1",
        "https://app.example.com/" + "c" * 3000,
    ],
    ids=["bad-port", "bad-bracket", "crlf", "too-long"],
)
async def test_a_malformed_metadata_document_url_is_an_error_page_at_authorize(
    server: AuthServer, documents: Documents, client_id: str
) -> None:
    page = await server.client.get(
        "/authorize", params=Flow(client_id, redirect_uri=CALLBACK).params()
    )
    assert page.status_code == 400
    assert "location" not in page.headers
    assert documents.fetches == []


@pytest.mark.anyio
async def test_a_host_name_that_is_not_valid_idna_is_refused(documents: Documents) -> None:
    async def idna_resolver(host: str, port: int) -> list[str]:
        host.encode("idna")  # what the system resolver does first: a 70-letter label fails
        return await resolver(host, port)

    url = "https://" + "a" * 70 + ".example.com/client.json"
    with pytest.raises(CimdError):
        await _fetcher(documents, idna_resolver).fetch(url, now=datetime.now(UTC))
