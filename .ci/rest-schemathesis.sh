#!/usr/bin/env bash
# Schemathesis over the REST API's own OpenAPI document, against a real `trace serve`:
# generated requests to every /api/v1 operation with a full-scope key, checking that no
# answer is a server error and every answer matches the documented status codes,
# content types and schemas. A few entries, a stream and an image are made first, so
# the generated ids sometimes hit real ones.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
MAX_EXAMPLES="${REST_FUZZ_EXAMPLES:-40}"

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(uv run --quiet python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export TRACE_DATA_DIR="$WORK/data"
# The rate limit would answer 429 to a fuzzer's burst; this run is about schemas.
export TRACE_MCP_RATE_LIMIT_BURST=1000000 TRACE_MCP_RATE_LIMIT_PER_SECOND=1000000
uv run --quiet trace user create fuzz@example.com >/dev/null 2>&1
KEY=$(uv run --quiet trace key create --user fuzz@example.com --name schemathesis --scope full 2>/dev/null)

uv run --quiet trace serve --host 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    curl -fsS "$BASE/health" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "$BASE/health" >/dev/null || { cat "$WORK/server.log" >&2; exit 1; }

AUTH="Authorization: Bearer $KEY"
STREAM=$(curl -fsS -X POST "$BASE/api/v1/streams" -H "$AUTH" -H 'Content-Type: application/json' \
    -d '{"name":"Fuzz","entry_settings":{"use_status":true,"statuses":["open","done"]}}' |
    uv run --quiet python -c 'import json,sys; print(json.load(sys.stdin)["stream_id"])')
ENTRY=$(curl -fsS -X POST "$BASE/api/v1/entries" -H "$AUTH" -H 'Content-Type: application/json' \
    -d "{\"content\":\"seed entry\",\"stream_id\":\"$STREAM\",\"tags\":[\"seed\"]}" |
    uv run --quiet python -c 'import json,sys; print(json.load(sys.stdin)["entry_id"])')
uv run --quiet python -c 'import sys; from trace_core.testing.images import png_bytes; sys.stdout.buffer.write(png_bytes())' >"$WORK/seed.png"
curl -fsS -X POST "$BASE/api/v1/entries/$ENTRY/attachments?filename=seed.png" -H "$AUTH" \
    -H 'Content-Type: image/png' --data-binary "@$WORK/seed.png" >/dev/null

set +e
uv run --quiet schemathesis run "$BASE/api/openapi.json" \
    --header "$AUTH" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --max-examples "$MAX_EXAMPLES" \
    --workers 1 \
    --seed 1 \
    --no-color
status=$?
set -e
if [ "$status" -ne 0 ]; then
    echo "--- server log (last 60 lines)" >&2
    tail -60 "$WORK/server.log" >&2
fi
exit "$status"
