"""Smoke-test the single-file `trace` executable with no Python or virtual environment around it.

    python3 .ci/executable_smoke.py dist/trace [--postgres DATABASE_URL]

Copies the executable into a fresh temporary directory and runs it there with an
environment built from nothing: PATH holds only that directory (no Python, no
venv, no uv), HOME, TMPDIR and TRACE_DATA_DIR point inside it. Then, as a new
user would: ``trace --version``, ``trace migrate`` (Alembic's revision files
from the bundle), ``trace user create``, ``trace key create --scope full``,
``trace serve`` on a free port (waits for uvicorn's "running on" line, then
polls /health), an MCP ``create_entry`` and a ``search_entries`` that finds it
(with the key, over HTTP), the sign-in page (a template from the bundle) and
the static files its pages link to; then every command's ``--help`` (each
command's module is imported by name), ``trace search``, ``trace user timezone``
(zone data from the bundled tzdata alone: PYTHONTZPATH is empty), ``trace mcp`` over
stdin/stdout, ``trace backup`` and ``trace restore`` into a new data directory.
With ``--postgres`` (an empty database's URL), migrate, user, key, serve and the
two MCP calls again on that database (the asyncpg driver inside the bundle).
Exits non-zero with the server's log on any failure. Stdlib only, modelled on
.ci/wheel_smoke.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

STARTUP_TIMEOUT = 60
SEARCH_TIMEOUT = 15

# Pages whose linked CSS, scripts and images (same origin) are fetched from the executable.
PAGES_WITH_STATIC_FILES = ("/signin", "/login", "/")
# The pages ship static files (htmx, app.js, app.css): a bundle without them, or pages
# linking none, fails.
STATIC_FILES_REQUIRED = True

MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "Mcp-Protocol-Version": "2025-06-18",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bare_environment(work: Path) -> dict[str, str]:
    """Return an environment with nothing of this machine's Python in it."""
    env = {
        "PATH": str(work / "bin"),  # only the executable: no python, no uv on the PATH
        "HOME": str(work / "home"),
        "TMPDIR": str(work / "tmp"),  # where the onefile bootloader unpacks
        "LANG": "C.UTF-8",
        "TRACE_DATA_DIR": str(work / "data"),
        # No system zone files (/usr/share/zoneinfo): time zones come from the bundled tzdata.
        "PYTHONTZPATH": "",
    }
    for name in ("SYSTEMROOT", "WINDIR"):  # Windows cannot start processes without them
        if name in os.environ:
            env[name] = os.environ[name]
    for directory in ("home", "tmp"):
        (work / directory).mkdir(exist_ok=True)
    return env


class _Links(HTMLParser):
    """Collect the same-origin URLs of a page's stylesheets, scripts, icons and images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        url = values.get("src") if tag in ("script", "img") else None
        if tag == "link":
            url = values.get("href")
        if url and not urllib.parse.urlsplit(url).netloc and not url.startswith("data:"):
            self.urls.append(url)


class Smoke:
    """The executable in ``work``, run as a user would run it."""

    def __init__(self, executable: Path, work: Path) -> None:
        (work / "bin").mkdir()
        self.exe = work / "bin" / executable.name
        shutil.copy2(executable, self.exe)
        self.work = work
        self.env = bare_environment(work)
        self.base = ""
        self.log: list[str] = []
        self.server: subprocess.Popen[str] | None = None

    def run(
        self,
        *args: str,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
        quiet: bool = False,
    ) -> str:
        """Run ``trace ARGS`` to completion; return its standard output (exit on failure)."""
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - the executable under test
            [str(self.exe), *args],
            env=env or self.env,
            cwd=self.work,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"trace {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
        if not quiet:
            print(f"trace {' '.join(args[:2])}: {time.perf_counter() - started:.2f} s")
        return done.stdout.strip()

    def fail(self, message: str) -> None:
        """Exit with ``message`` and the server's log so far."""
        sys.exit(message + "\n--- server log ---\n" + "".join(self.log))

    def start(self) -> None:
        """Start ``trace serve`` on a free port; return once /health answers."""
        port = _free_port()
        started = time.perf_counter()
        self.server = subprocess.Popen(  # noqa: S603 - the executable under test
            [str(self.exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=self.env,
            cwd=self.work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = threading.Event()

        def watch() -> None:
            assert self.server is not None
            assert self.server.stderr is not None
            for line in self.server.stderr:
                self.log.append(line)
                if "Uvicorn running on" in line:  # logged once the socket is bound
                    ready.set()
            ready.set()

        threading.Thread(target=watch, daemon=True).start()
        if not ready.wait(STARTUP_TIMEOUT) or self.server.poll() is not None:
            self.fail("trace serve did not start")
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                status, body = self.get("/health")
                break
            except urllib.error.URLError as error:
                if self.server.poll() is not None or time.monotonic() > deadline:
                    self.fail(f"/health never answered ({error.reason})")
                time.sleep(0.1)
        print(f"/health: {status} {body[:60]!r} ({time.perf_counter() - started:.2f} s)")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 30 s)."""
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()

    def get(self, path: str) -> tuple[int, bytes]:
        """GET ``path`` from the server: its status and body."""
        with urllib.request.urlopen(self.base + path, timeout=30) as answer:  # noqa: S310
            return answer.status, answer.read()

    def tool(self, key: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call MCP tool ``name`` with the API key; return the result (exit on an error)."""
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        }
        request = urllib.request.Request(  # noqa: S310 - our own server
            f"{self.base}/mcp",
            data=json.dumps(body).encode(),
            headers={**MCP_HEADERS, "Authorization": f"Bearer {key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                reply = json.loads(answer.read())
        except urllib.error.HTTPError as error:
            self.fail(f"{name}: HTTP {error.code}: {error.read()[:500]!r}")
        result = reply.get("result")
        if not isinstance(result, dict) or result.get("isError"):
            self.fail(f"{name} failed: {json.dumps(reply)[:1000]}")
        return result

    def static_files(self) -> None:
        """Fetch every same-origin file the pages link to (see STATIC_FILES_REQUIRED)."""
        found: dict[str, str] = {}
        for page in PAGES_WITH_STATIC_FILES:
            try:
                status, body = self.get(page)
            except urllib.error.HTTPError:
                continue
            parser = _Links()
            parser.feed(body.decode("utf-8", "replace"))
            for url in parser.urls:
                found.setdefault(urllib.parse.urljoin(page, url), page)
            if page == "/signin" and b"<form" not in body:
                self.fail("/signin has no form: the page templates are missing")
        if not found:
            note = f"no static files linked from {', '.join(PAGES_WITH_STATIC_FILES)}"
            if STATIC_FILES_REQUIRED:
                self.fail(f"{note}: the bundle lacks the web pages' static files")
            print(f"NOTE: {note}; skipped (STATIC_FILES_REQUIRED is off)")
            return
        for url, page in sorted(found.items()):
            try:
                status, body = self.get(url)
            except urllib.error.HTTPError as error:
                self.fail(f"{url} (linked from {page}): HTTP {error.code}")
            if not body:
                self.fail(f"{url} (linked from {page}) is empty")
            print(f"static {url}: {status}, {len(body)} bytes")

    def commands(self, word: str) -> None:
        """Run the other commands: each one's help, search, stdio MCP, backup and restore."""
        listing = self.run("--help")
        names = re.findall(r"^  ([a-z]+)  ", listing.split("Commands:", 1)[1], re.MULTILINE)
        if len(names) < 10:
            sys.exit(f"trace --help lists only {names}")
        for name in names:  # each command's module is imported by name: is it bundled?
            self.run(name, "--help", quiet=True)
        print(f"trace COMMAND --help: all {len(names)} commands")
        if word not in self.run("search", "--user", "smoke@example.com", word):
            sys.exit(f"trace search did not find {word!r}")
        self.run("user", "timezone", "smoke@example.com", "Pacific/Chatham")
        if '"Pacific/Chatham"' not in self.run("user", "list", "--json"):
            sys.exit("trace user timezone did not set the account's time zone")
        self.stdio_mcp(word)
        backup = self.work / "backup.tar.gz"
        self.run("backup", str(backup))
        restored = {**self.env, "TRACE_DATA_DIR": str(self.work / "restored")}
        self.run("restore", str(backup), env=restored)
        if "smoke@example.com" not in self.run("user", "list", env=restored):
            sys.exit("trace restore did not bring the account back")

    def stdio_mcp(self, word: str) -> None:
        """``trace mcp``: initialize, then search_entries over stdin/stdout."""
        process = subprocess.Popen(  # noqa: S603 - the executable under test
            [str(self.exe), "mcp", "--user", "smoke@example.com", "--read-only"],
            env=self.env,
            cwd=self.work,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdin is not None
        assert process.stdout is not None

        def send(message: dict[str, Any]) -> None:
            assert process.stdin is not None
            process.stdin.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
            process.stdin.flush()

        try:
            send(
                {
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": MCP_HEADERS["Mcp-Protocol-Version"],
                        "capabilities": {},
                        "clientInfo": {"name": "smoke", "version": "1"},
                    },
                }
            )
            if "result" not in json.loads(process.stdout.readline() or "{}"):
                sys.exit("trace mcp: no answer to initialize")
            send({"method": "notifications/initialized"})
            arguments = {"query": word}
            send(
                {
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": "search_entries", "arguments": arguments},
                }
            )
            answer = process.stdout.readline()
            if word not in answer:
                sys.exit(f"trace mcp: search_entries did not find {word!r}: {answer[:500]}")
            print(f"trace mcp (stdio): search_entries found {word!r}")
        finally:
            process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def serve_and_call(smoke: Smoke, word: str, *, pages: bool) -> None:
    """Migrate, create a user and a key, serve, and call MCP with the key over HTTP."""
    print("migrated to", smoke.run("migrate").replace("\n", " "))
    smoke.run("user", "create", "smoke@example.com", "--password-stdin", stdin="pw " * 6)
    key = smoke.run(
        "key", "create", "--user", "smoke@example.com", "--name", "smoke", "--scope", "full"
    )
    smoke.start()
    try:
        created = smoke.tool(
            key, "create_entry", {"content": f"Saw a {word} today.", "tags": ["smoke"]}
        )
        print("create_entry:", json.dumps(created.get("structuredContent", created))[:120])
        deadline = time.monotonic() + SEARCH_TIMEOUT
        while word not in json.dumps(smoke.tool(key, "search_entries", {"query": word})):
            if time.monotonic() > deadline:
                smoke.fail(f"search_entries never found the new entry ({word!r})")
            time.sleep(0.2)
        print(f"search_entries: found {word!r}")
        if pages:
            smoke.static_files()
    finally:
        smoke.stop()


def main(executable: Path, postgres_url: str | None) -> None:
    """Smoke-test ``executable`` from a fresh temporary directory (and on PostgreSQL)."""
    if not executable.is_file():
        sys.exit(f"{executable}: no such file (build it with .ci/build-executable.sh)")
    print(f"{executable}: {executable.stat().st_size / 1e6:.1f} MB")
    word = f"quokka{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="trace-exe-") as tmp:
        smoke = Smoke(executable.resolve(), Path(tmp))
        print(smoke.run("--version"))
        serve_and_call(smoke, word, pages=True)
        smoke.commands(word)
        left = sorted(p.name for p in (smoke.work / "tmp").iterdir())
        if left:  # the onefile bootloader removes what it unpacked when the process exits
            sys.exit(f"left behind in TMPDIR after the commands exited: {left}")
    if postgres_url:
        print("\n-- on PostgreSQL (asyncpg) --")
        with tempfile.TemporaryDirectory(prefix="trace-exe-pg-") as tmp:
            smoke = Smoke(executable.resolve(), Path(tmp))
            smoke.env["TRACE_DATABASE_URL"] = postgres_url
            serve_and_call(smoke, word, pages=False)
    print("executable smoke test passed")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    postgres = None
    if len(arguments) == 3 and arguments[1] == "--postgres":
        postgres = arguments.pop(2)
        arguments.pop(1)
    if len(arguments) != 1:
        sys.exit(__doc__)
    main(Path(arguments[0]), postgres)
