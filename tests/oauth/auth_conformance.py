"""Run the MCP conformance suite's authorization-server scenarios against ``trace serve``.

Usage (``.ci/run`` does this)::

    uv run python tests/oauth/auth_conformance.py --node NODE --conformance CONFORMANCE_JS

``CONFORMANCE_JS`` is ``node_modules/.bin/conformance`` of
``@modelcontextprotocol/conformance@0.2.0-alpha.12`` (needs Node >= 22).

The script starts a real server on a fresh data directory with one account,
registers a public client whose redirect URI is the suite's callback server,
and runs ``conformance authorization``. The suite prints an authorization URL
for a person to open; the script plays the person (it posts the real sign-in
and consent forms) and delivers the redirect to the suite's callback server.
Exit status 0 only if every scenario passed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from oauth_person import approve, free_port

PASSWORD = "conformance password 1"


def _play_person(authorize_url: str, base_url: str) -> None:
    """Sign in, approve Full Access, and follow the redirect to the suite's callback."""
    callback = approve(authorize_url, base_url, email="conformance@example.com", password=PASSWORD)
    httpx.get(callback, timeout=30)


def main() -> int:
    """Run the scenarios; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--node", required=True, help="a Node >= 22 binary")
    parser.add_argument("--conformance", required=True, help="the conformance CLI script")
    parser.add_argument("--trace", default=str(Path(sys.executable).parent / "trace"))
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="trace-auth-conformance-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_")}
    env["TRACE_DATA_DIR"] = str(data)
    subprocess.run(
        [args.trace, "user", "create", "conformance@example.com", "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    port, callback_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [args.trace, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
        registered = httpx.post(
            f"{base_url}/register",
            json={
                "client_name": "MCP conformance suite",
                "redirect_uris": [f"http://127.0.0.1:{callback_port}/callback"],
                "token_endpoint_auth_method": "none",
            },
            timeout=30,
        )
        registered.raise_for_status()
        client_id = registered.json()["client_id"]

        suite = subprocess.Popen(
            [
                args.node,
                args.conformance,
                "authorization",
                "--url",
                base_url,
                "--client-id",
                client_id,
                "--resource",
                f"{base_url}/mcp",
                "--port",
                str(callback_port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert suite.stdout is not None
        output: list[str] = []
        person_error: list[BaseException] = []
        for line in suite.stdout:
            sys.stdout.write(line)
            output.append(line)
            url = line.strip()
            if url.startswith(f"{base_url}/authorize?"):

                def person(url: str = url) -> None:
                    try:
                        _play_person(url, base_url)
                    except BaseException as exc:  # reported below
                        person_error.append(exc)

                threading.Thread(target=person, daemon=True).start()
        status = suite.wait(timeout=600)
        if person_error:
            print(f"playing the person failed: {person_error[0]!r}", file=sys.stderr)
            return 1
        text = "".join(output)
        failed = re.findall(r"(\d+) failed", text)
        skipped = "SKIPPED" in text
        if status != 0 or not failed or any(n != "0" for n in failed) or skipped:
            print("authorization conformance FAILED", file=sys.stderr)
            return 1
        print("authorization conformance passed")
        return 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
