#!/usr/bin/env bash
# The packages as someone outside this repository gets them:
#
#   1. `uv build --all-packages` into a temporary directory (sdists, and wheels
#      built from them), then .ci/check_wheels.py: metadata complete, every tracked
#      file of each package (migrations, templates, static files) in its wheel;
#   2. a FRESH virtual environment (`uv venv`, no workspace) with only those wheels
#      (and their dependencies from the index) installed;
#   3. there: examples/embedded_service.py, the third-party blob store's contract test
#      (examples/custom_blob_store, pytest from trace-core[testing]), and the `trace`
#      command (.ci/wheel_smoke.py: migrate, user, key, serve, /health, a page, MCP).
#
# Nothing is cached between runs; the examples run from a copy outside the checkout.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
WORK=$(mktemp -d -t trace-wheels-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

uv build --all-packages --quiet -o "$WORK/dist"
uv run --no-sync python .ci/check_wheels.py "$WORK/dist"

# From the temporary directory, so neither the workspace nor its uv settings apply.
cd "$WORK"
uv venv --quiet --python 3.11 venv
PY="$WORK/venv/bin/python"
core_wheel=$(ls dist/trace_core-*.whl)
uv pip install --quiet --python "$PY" "${core_wheel}[testing]" \
    $(ls dist/*.whl | grep -v trace_core-)
"$PY" -c 'import trace_core, trace_sql, trace_http; print("installed:", trace_http.__file__)'

cp -r "$ROOT/examples" "$WORK/examples"
"$PY" examples/embedded_service.py
"$PY" -m pytest -q -p no:cacheprovider -W error examples/custom_blob_store
"$PY" "$ROOT/.ci/wheel_smoke.py" "$WORK"
