"""The OpenAPI document: Litestar's, at /api/openapi.json, describing the REST API only."""

from __future__ import annotations

import httpx2
import pytest

from trace_core.inputs import CreateEntryArgs, UpdateEntryArgs
from trace_http.web.api._schema import struct_schema

pytestmark = pytest.mark.anyio


async def test_the_document_describes_every_api_route_and_nothing_else(
    http: httpx2.AsyncClient,
) -> None:
    response = await http.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    assert all(path.startswith("/api/v1/") for path in paths)
    assert {
        "/api/v1/streams",
        "/api/v1/entries/{entry_id}",
        "/api/v1/entries/{entry_id}/versions/{version}/restore",
        "/api/v1/search",
        "/api/v1/tags",
        "/api/v1/trash/{entry_id}/restore",
        "/api/v1/entries/{entry_id}/attachments",
        "/api/v1/attachments/{attachment_id}",
        "/api/v1/account/export",
        "/api/v1/account/import",
        "/api/v1/keys/{key_id}",
    } <= set(paths)
    for path, operations in paths.items():
        for method, operation in operations.items():
            problem = operation["responses"]["400"]["content"]
            assert "application/problem+json" in problem, (method, path)


async def test_bodies_are_the_mcp_tools_arguments(http: httpx2.AsyncClient) -> None:
    document = (await http.get("/api/openapi.json")).json()
    create = document["paths"]["/api/v1/entries"]["post"]["requestBody"]["content"]
    assert (
        create["application/json"]["schema"]["properties"]
        == (struct_schema(CreateEntryArgs)["properties"])
    )
    update = document["paths"]["/api/v1/entries/{entry_id}"]["patch"]["requestBody"]["content"]
    properties = update["application/json"]["schema"]["properties"]
    expected = dict(struct_schema(UpdateEntryArgs)["properties"])
    del expected["entry_id"], expected["expected_version"]
    assert properties == expected
