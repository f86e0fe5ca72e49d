"""The unit tier is pure: a test here that starts a process or opens a connection fails.

Tests that need local programs, files or the model live in `tests/local`; those that
need servers in `connected` and `e2e`.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
from typing import Any, NoReturn

import pytest


def _refuse(what: str) -> Any:
    def refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
        raise AssertionError(f"a unit test must not {what}: move it to tests/local or beyond")

    return refuse


@pytest.fixture(autouse=True)
def _no_processes_or_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a process"))
    monkeypatch.setattr(asyncio, "create_subprocess_exec", _refuse("start a process"))
    monkeypatch.setattr(socket.socket, "connect", _refuse("open a connection"))
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse("open a connection"))
