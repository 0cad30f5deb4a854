#!/usr/bin/env bash
# MCP clients that nobody here wrote, against a real `trace serve`:
#
#   1. the MCP Inspector CLI lists the tools and calls search_entries with a bearer key;
#   2. the MCP conformance suite (server mode) runs against an instance with
#      authentication switched off for tests (loopback only); scenarios that need
#      the suite's own fixtures are listed, with reasons, in
#      .ci/conformance-expected-failures.yml — every other scenario must pass.
#
# Needs Node >= 22.19: uses `node` if it is new enough, else installs node@22 from
# npm into .scratch/node22 (gitignored), where the two npm packages go too.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
NODE_DIR="$ROOT/.scratch/node22"
INSPECTOR_VERSION="2.12.0"
CONFORMANCE_VERSION="0.1.16"

node_ok() {
    command -v node >/dev/null 2>&1 || return 1
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'
}

mkdir -p "$NODE_DIR"
if ! node_ok; then
    if [ ! -x "$NODE_DIR/node_modules/node/bin/node" ]; then
        echo "installing node@22 into $NODE_DIR"
        (cd "$NODE_DIR" && npm install --no-audit --no-fund --silent node@22 >/dev/null)
    fi
    export PATH="$NODE_DIR/node_modules/node/bin:$PATH"
fi
node_ok || { echo "Node >= 22.19 is required" >&2; exit 1; }
echo "node $(node --version)"
if [ ! -x "$NODE_DIR/node_modules/.bin/mcp-inspector" ] || [ ! -x "$NODE_DIR/node_modules/.bin/conformance" ]; then
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --silent \
        "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" \
        "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" >/dev/null)
fi
INSPECTOR="$NODE_DIR/node_modules/.bin/mcp-inspector"
CONFORMANCE="$NODE_DIR/node_modules/.bin/conformance"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    uv run --quiet python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server NAME PORT [ENV=VALUE...]: run `trace serve` in the background and wait for /health.
start_server() {
    local name=$1 port=$2
    shift 2
    env TRACE_DATA_DIR="$WORK/$name" "$@" uv run --quiet trace serve --host 127.0.0.1 --port "$port" \
        >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 300); do
        if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    echo "trace serve ($name) did not come up:" >&2
    cat "$WORK/$name.log" >&2
    return 1
}

echo "--- MCP Inspector CLI (bearer key)"
PORT=$(free_port)
export TRACE_DATA_DIR="$WORK/inspector"
uv run --quiet trace user create inspector@example.com >/dev/null 2>&1
KEY=$(uv run --quiet trace key create --user inspector@example.com --name "MCP Inspector" --scope full 2>/dev/null)
unset TRACE_DATA_DIR
start_server inspector "$PORT"
URL="http://127.0.0.1:$PORT/mcp"
"$INSPECTOR" --cli "$URL" --transport http --method tools/list \
    --header "Authorization: Bearer $KEY" >"$WORK/tools.json"
for tool in get_docs list_streams get_stream list_entries get_entry search_entries create_entry \
    update_entry delete_entry get_attachment_url get_attachment_data; do
    grep -q "\"name\": \"$tool\"" "$WORK/tools.json" || { echo "tools/list lacks $tool" >&2; exit 1; }
done
echo "tools/list: $(grep -c '"inputSchema"' "$WORK/tools.json") tools"
"$INSPECTOR" --cli "$URL" --transport http --method tools/call --tool-name create_entry \
    --tool-arg "content=Inspector was here" --header "Authorization: Bearer $KEY" >/dev/null
"$INSPECTOR" --cli "$URL" --transport http --method tools/call --tool-name search_entries \
    --tool-arg query=inspector --header "Authorization: Bearer $KEY" >"$WORK/search.json"
grep -q '"isError": false' "$WORK/search.json" || { cat "$WORK/search.json" >&2; exit 1; }
grep -q 'Inspector was here' "$WORK/search.json" || { cat "$WORK/search.json" >&2; exit 1; }
echo "tools/call search_entries: found the entry"
if "$INSPECTOR" --cli "$URL" --transport http --method tools/list >/dev/null 2>&1; then
    echo "tools/list without a key should have failed" >&2
    exit 1
fi
echo "without a key: refused"

echo "--- MCP conformance suite (server mode, auth off for tests)"
PORT=$(free_port)
# The suite makes a few hundred requests in seconds, all as one test principal.
start_server conformance "$PORT" TRACE_MCP_DISABLE_AUTH_FOR_TESTS=true TRACE_MCP_RATE_LIMIT_BURST=100000
"$CONFORMANCE" server --url "http://127.0.0.1:$PORT/mcp" \
    --expected-failures "$ROOT/.ci/conformance-expected-failures.yml" -o "$WORK/conformance"
