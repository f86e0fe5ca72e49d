"""The guard of this tier works: processes and connections are refused here."""

from __future__ import annotations

import socket
import subprocess

import pytest


def test_starting_a_process_fails_a_unit_test() -> None:
    with pytest.raises(AssertionError, match="must not start a process"):
        subprocess.run(["true"], check=False)


def test_opening_a_connection_fails_a_unit_test() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match="open a connection"):
        sock.connect(("127.0.0.1", 9))
