#!/usr/bin/env bash
# OAuth against clients nobody here wrote, each on a real `trace serve`:
#
#   1. the MCP conformance suite's authorization-server scenarios (`conformance
#      authorization`, @modelcontextprotocol/conformance 0.2.0 alpha): metadata, then a
#      full authorization-code grant with PKCE and `resource`;
#   2. Claude Code (`claude mcp login --no-browser`, then `claude mcp list` must say
#      ✔ Connected).
#
# In both, a script in tests/oauth/ plays the person at the sign-in and consent pages.
#
# Needs Node >= 22: uses `node` if it is new enough, else node@22 from npm in
# .scratch/node22 (gitignored). The suite goes to .scratch/conformance-auth because
# its alpha differs from the release the server-mode run uses.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
NODE_DIR="$ROOT/.scratch/node22"
SUITE_DIR="$ROOT/.scratch/conformance-auth"
CLIENTS_DIR="$ROOT/.scratch/realclients"
CONFORMANCE_VERSION="0.2.0-alpha.12"
CLAUDE_CODE_VERSION="2.1.330"

node_ok() {
    command -v node >/dev/null 2>&1 || return 1
    node -e 'const [a]=process.versions.node.split(".").map(Number); process.exit(a>=22?0:1)'
}

if ! node_ok; then
    if [ ! -x "$NODE_DIR/node_modules/node/bin/node" ]; then
        mkdir -p "$NODE_DIR"
        echo "installing node@22 into $NODE_DIR"
        (cd "$NODE_DIR" && npm install --no-audit --no-fund --silent node@22 >/dev/null)
    fi
    export PATH="$NODE_DIR/node_modules/node/bin:$PATH"
fi
node_ok || { echo "Node >= 22 is required" >&2; exit 1; }

if [ ! -f "$SUITE_DIR/node_modules/@modelcontextprotocol/conformance/package.json" ] \
    || ! grep -q "\"version\": \"$CONFORMANCE_VERSION\"" \
        "$SUITE_DIR/node_modules/@modelcontextprotocol/conformance/package.json"; then
    mkdir -p "$SUITE_DIR"
    [ -f "$SUITE_DIR/package.json" ] || echo '{"private": true}' > "$SUITE_DIR/package.json"
    (cd "$SUITE_DIR" && npm install --no-audit --no-fund --silent \
        "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" >/dev/null)
fi

uv run --quiet python tests/oauth/auth_conformance.py \
    --node "$(command -v node)" \
    --conformance "$SUITE_DIR/node_modules/.bin/conformance"

if [ ! -f "$CLIENTS_DIR/node_modules/@anthropic-ai/claude-code/package.json" ] \
    || ! grep -q "\"version\": \"$CLAUDE_CODE_VERSION\"" \
        "$CLIENTS_DIR/node_modules/@anthropic-ai/claude-code/package.json"; then
    mkdir -p "$CLIENTS_DIR"
    [ -f "$CLIENTS_DIR/package.json" ] || echo '{"private": true}' > "$CLIENTS_DIR/package.json"
    (cd "$CLIENTS_DIR" && npm install --no-audit --no-fund --silent \
        "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" >/dev/null)
fi

uv run --quiet python tests/oauth/claude_code_oauth.py \
    --claude "$CLIENTS_DIR/node_modules/.bin/claude" \
    --node-bin "$(dirname "$(command -v node)")"
