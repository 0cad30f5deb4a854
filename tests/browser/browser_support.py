"""What the browser tests share: the account they sign in with, the live server."""

from __future__ import annotations

from dataclasses import dataclass

from trace_core.service import Trace

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery staple"


@dataclass
class LiveServer:
    url: str
    trace: Trace
