"""A local S3 API server for the tests: moto's standalone server in a subprocess.

``moto[server]`` (a dev dependency) answers the S3 API in memory. It runs as
``python -m moto.server`` on a free loopback port, in its own process, so its
imports and threads stay out of the test process. The helpers here start and
stop it and make buckets on it; the ``s3_endpoint`` fixture in the root
conftest uses them. Without moto installed the S3 tests skip, saying so, except
under ``CI=true``, where they fail.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from aiobotocore.session import AioSession
    from types_aiobotocore_s3 import S3Client

STARTUP_TIMEOUT = 30
# moto accepts any key pair; these never leave the machine.
ACCESS_KEY = "trace-test-key"
SECRET_KEY = "trace-test-secret"  # a throwaway key for the local test server
REGION = "us-east-1"


def moto_installed() -> bool:
    return importlib.util.find_spec("moto") is not None and (
        importlib.util.find_spec("flask") is not None
    )


def s3_unavailable(reason: str) -> None:
    """Skip with ``reason``, or fail under CI=true (the S3 tests are required there)."""
    message = f"no S3 API server for the S3 blob store tests ({reason})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: the S3 tests are required)", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[str], str]:
    """Start moto's server on a free loopback port; return it and its endpoint URL.

    Waits (without sleeping) for the server's "Running on" line, at most
    ``STARTUP_TIMEOUT`` seconds.
    """
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    ready = threading.Event()
    output: list[str] = []

    def watch() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if len(output) < 200:
                output.append(line)
            if "Running on" in line:
                ready.set()
        ready.set()  # the process ended: let the waiter look at why

    threading.Thread(target=watch, daemon=True).start()
    if not ready.wait(STARTUP_TIMEOUT) or process.poll() is not None:
        process.kill()
        process.wait()
        s3_unavailable("moto's server did not start:\n" + "".join(output[-20:]))
    return process, f"http://127.0.0.1:{port}"


def stop_moto(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr is not None:
        process.stderr.close()


@functools.cache
def shared_session() -> AioSession:
    """One aiobotocore session for the tests' clients and stores.

    Making a client loads S3's service model into its session (a few tenths of a
    second); stores with explicit test keys share this one instead of each
    loading it again. Tests of the credential chain make their own.
    """
    from aiobotocore.session import get_session

    return get_session()


@asynccontextmanager
async def s3_client(endpoint: str) -> AsyncIterator[S3Client]:
    """A client for inspecting the test server (buckets, uploads in progress)."""
    async with shared_session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    ) as client:
        yield client


async def new_bucket(endpoint: str) -> str:
    """Create an empty bucket with a unique name and return the name."""
    name = f"trace-test-{uuid.uuid4().hex[:16]}"
    async with s3_client(endpoint) as s3:
        await s3.create_bucket(Bucket=name)
    return name
