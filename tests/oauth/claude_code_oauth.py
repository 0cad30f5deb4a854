"""Claude Code signs in to ``trace serve`` over OAuth, then reports the server connected.

Usage (``.ci/auth-conformance.sh`` does this)::

    uv run python tests/oauth/claude_code_oauth.py --claude path/to/claude [--node-bin DIR]

Claude Code is a client nobody here wrote. The script starts a real server on a
fresh data directory (Client ID Metadata Documents off: this machine cannot
fetch Claude Code's document from claude.ai, so Claude Code registers
dynamically instead), adds the server with ``claude mcp add --transport http``,
runs ``claude mcp login --no-browser`` in a pseudo-terminal, plays the person at
the printed authorization URL (sign-in and consent forms), delivers the
redirect to Claude Code's localhost callback, and finally requires
``claude mcp list`` to print ``✔ Connected`` for the server.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from oauth_person import approve, free_port

PASSWORD = "claude code password 1"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\]8;;[^\x07]*\x07")


def _login(claude: str, env: dict[str, str], cwd: str, base_url: str) -> str:
    """Run ``claude mcp login`` in a pty; return everything it printed."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [claude, "mcp", "login", "trace", "--no-browser"],
        cwd=cwd,
        env={**env, "TERM": "xterm", "COLUMNS": "500"},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    output = ""
    approved = False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096).decode(errors="replace")
            except OSError:
                break
            output += chunk
            if approved:
                continue
            match = re.search(rf"({re.escape(base_url)}/authorize\?[^\s\x07\x1b]+)", output)
            if match:
                approved = True
                callback = approve(
                    match.group(1), base_url, email="claude-code@example.com", password=PASSWORD
                )
                try:
                    httpx.get(callback, timeout=30)
                except httpx.HTTPError:
                    # No local listener: paste the redirect URL, as a person would.
                    os.write(master, (callback + "\n").encode())
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return ANSI.sub("", output)


def main() -> int:
    """Run the check; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claude", required=True, help="the claude CLI")
    parser.add_argument("--node-bin", help="directory of a Node >= 22 binary to put on PATH")
    parser.add_argument("--trace", default=str(Path(sys.executable).parent / "trace"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="trace-claude-code-"))
    home = work / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_")}
    if args.node_bin:
        env["PATH"] = f"{args.node_bin}{os.pathsep}{env.get('PATH', '')}"
    server_env = {
        **env,
        "TRACE_DATA_DIR": str(work / "data"),
        "TRACE_AUTH_CLIENT_METADATA_DOCUMENTS": "false",
    }
    subprocess.run(
        [args.trace, "user", "create", "claude-code@example.com", "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        env=server_env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [args.trace, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client_env = {**env, "HOME": str(home)}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("trace serve did not start", file=sys.stderr)
                return 1
            time.sleep(0.2)
        subprocess.run(
            [args.claude, "mcp", "add", "--transport", "http", "trace", f"{base_url}/mcp"],
            cwd=home,
            env=client_env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        printed = _login(args.claude, client_env, str(home), base_url)
        print(printed.strip()[-600:])
        listed = subprocess.run(
            [args.claude, "mcp", "list"],
            cwd=home,
            env=client_env,
            capture_output=True,
            text=True,
            timeout=180,
        ).stdout
        print(listed.strip())
        line = next((x for x in listed.splitlines() if x.startswith("trace:")), "")
        if "Connected" not in line or "✔" not in line:
            print("Claude Code did not connect over OAuth", file=sys.stderr)
            return 1
        print("Claude Code signed in over OAuth and is connected")
        return 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
