"""``trace serve`` on a port that is taken: one line naming --port, exit code 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from trace_core.errors import InvalidInputError
from trace_http.web.app import listening_socket


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 another program is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def _trace(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_")}
    env["TRACE_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-c", "from trace_http.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_on_a_port_in_use_prints_one_line_naming_port_and_exits_2(
    tmp_path: Path, taken_port: int
) -> None:
    done = _trace(tmp_path, "serve", "--port", str(taken_port))

    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"Error: server.port: port {taken_port} on 127.0.0.1 is in use: choose another with --port"
    ]
    assert done.stdout == ""


def test_serve_on_an_address_of_another_machine_names_host(tmp_path: Path) -> None:
    # 192.0.2.0/24 is TEST-NET-1: never an address of this machine; nothing is sent.
    done = _trace(tmp_path, "serve", "--host", "192.0.2.1", "--port", "8000")

    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("Error: server.host: cannot listen on 192.0.2.1")
    assert "--host" in line


def test_the_listening_socket_is_the_one_uvicorn_serves_on(taken_port: int) -> None:
    with pytest.raises(InvalidInputError) as refused:
        listening_socket("127.0.0.1", taken_port)
    assert refused.value.field == "server.port"
    sock = listening_socket("127.0.0.1", 0)
    try:
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()


@pytest.mark.anyio
async def test_connections_to_the_bound_socket_send_without_delay() -> None:
    """Accepted connections get TCP_NODELAY (asyncio sets it only on sockets that say TCP).

    Without it an answer written in two parts (headers, then body) waited for the
    client's delayed ACK: ~40 ms per request of a keep-alive client.
    """
    import asyncio

    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw = writer.get_extra_info("socket")
        accepted.set_result(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_client, sock=sock)
    async with server:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(accepted, 5) != 0
        writer.close()
