"""Run the installed `trace` command from a fresh virtual environment (no workspace).

    VENV/bin/python .ci/wheel_smoke.py WORK_DIR

Migrates a new data directory, creates a user and an API key, starts
`trace serve` and asks it for /health, the sign-in page (a template from the
wheel) and an MCP tools/list with the key; then stops it. Exits non-zero with
the server's log on any failure. Stdlib only, so it runs on the wheels alone.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT = 60


def _trace(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    command = [str(Path(sys.executable).parent / "trace"), *args]
    done = subprocess.run(  # noqa: S603 - our own installed command
        command, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        sys.exit(f"trace {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _poll(url: str, server: subprocess.Popen[str], log: list[str]) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310
                return f"{answer.status} {answer.read().decode()[:80]}"
        except urllib.error.URLError as error:
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"{url} never answered ({error.reason}):\n" + "".join(log))
            time.sleep(0.2)


def main(work: Path) -> None:
    """Smoke-test the installed server in ``work``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_")}
    env["TRACE_DATA_DIR"] = str(work / "data")
    print("migrated to", _trace("migrate", env=env).replace("\n", " "))
    _trace("user", "create", "smoke@example.com", "--password-stdin", env=env, stdin="pw " * 6)
    key = _trace("key", "create", "--user", "smoke@example.com", "--name", "smoke", env=env)
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own installed command
        [str(Path(sys.executable).parent / "trace"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = threading.Event()
    log: list[str] = []

    def watch() -> None:
        assert server.stderr is not None
        for line in server.stderr:
            log.append(line)
            if "Uvicorn running on" in line:  # logged once the socket is bound
                ready.set()
        ready.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        if not ready.wait(STARTUP_TIMEOUT) or server.poll() is not None:
            sys.exit("trace serve did not start:\n" + "".join(log))
        base = f"http://127.0.0.1:{port}"
        # Uvicorn reports the lifespan's start-up before it binds the socket:
        # poll until the port answers (or the budget runs out).
        health = _poll(f"{base}/health", server, log)
        print("/health:", health)
        with urllib.request.urlopen(f"{base}/signin", timeout=30) as answer:  # noqa: S310
            page = answer.read().decode()
            if "<form" not in page:
                sys.exit("/signin has no form: the page templates are missing")
            print("/signin:", answer.status, "a form")
        request = urllib.request.Request(  # noqa: S310
            f"{base}/mcp",
            data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode(),
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
                "Mcp-Protocol-Version": "2025-06-18",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            tools = json.loads(answer.read())["result"]["tools"]
            print("tools/list:", len(tools), "tools")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
