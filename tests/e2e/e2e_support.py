"""Helpers shared by the end-to-end tests (imported by conftest and tests)."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TypeVar

import msgspec
import pytest

from mcp import Client

T = TypeVar("T")

SECRET = b"e2e-attachment-url-secret-0123456789abcdef"


def trace_command() -> list[str]:
    """The installed ``trace`` console script of this environment."""
    script = Path(sys.executable).parent / "trace"
    return [str(script)]


def run_blocking(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on a private event loop in another thread (from sync fixtures)."""

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def png(width: int = 2, height: int = 3, *, payload: bytes = b"") -> bytes:
    """A valid PNG of ``width`` x ``height`` (plus ``payload`` in a text chunk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x40" * (3 * width) for _ in range(height))
    extra = chunk(b"tEXt", payload) if payload else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


STARTUP_TIMEOUT = 60.0

_watchers: dict[int, threading.Thread] = {}


class Server(msgspec.Struct, kw_only=True):
    """A running ``trace serve``."""

    url: str
    data_dir: Path
    env: dict[str, str]
    startup_seconds: float
    keys: dict[str, str] = {}
    accounts: dict[str, str] = {}
    key_ids: dict[str, str] = {}

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{(self.data_dir / 'trace.db').as_posix()}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    data_dir: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], Server]:
    """Start ``trace serve``; wait (no sleeping) for uvicorn's "running on" line (bound)."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRACE_")},
        "TRACE_DATA_DIR": str(data_dir),
        "TRACE_MCP_ATTACHMENT_URL_SECRET": SECRET.decode(),
        "TRACE_LOG_LEVEL": "info",
        **(extra_env or {}),
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        [*trace_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = threading.Event()
    output: list[str] = []

    def watch() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            output.append(line)
            if "Uvicorn running on" in line:  # logged once the socket is bound
                ready.set()
        ready.set()  # the process ended: let the waiter look at why

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _watchers[process.pid] = watcher
    if not ready.wait(STARTUP_TIMEOUT) or process.poll() is not None:
        process.kill()
        pytest.fail("trace serve did not start:\n" + "".join(output[-40:]), pytrace=False)
    server = Server(
        url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        env=env,
        startup_seconds=time.perf_counter() - started,
    )
    return process, server


def stop_server(process: subprocess.Popen[str]) -> None:
    """Stop the server and release its pipe (the watcher ends at the pipe's end)."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    watcher = _watchers.pop(process.pid, None)
    if watcher is not None:
        watcher.join(timeout=15)
    if process.stderr is not None:
        process.stderr.close()


McpConnect = Callable[..., AbstractAsyncContextManager[Client]]
