"""Fault injection: SIGKILL a service (and start it again, as a supervisor would), crash a
server and bring it back on its own store after an outage."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

from .infra import Restartable
from .world import World

RESTART_DELAY_S = 1.0  # what `make dev`'s supervisor waits before its first restart


def kill(world: World, name: str) -> None:
    world[name].stop(signal.SIGKILL)


def start(world: World, name: str, timeout: float = 180.0) -> None:
    world[name].start()
    world[name].wait_ready(timeout)


def _down_for(down_s: float, during: Callable[[], None] | None) -> None:
    """Wait out an outage, running `during` (e.g. submissions) at its start."""
    until = time.monotonic() + down_s
    if during is not None:
        during()
    time.sleep(max(0.0, until - time.monotonic()))


def kill_and_restart(
    world: World,
    name: str,
    down_s: float = RESTART_DELAY_S,
    during: Callable[[], None] | None = None,
) -> float:
    """SIGKILL `name`, keep it down `down_s`, start it; returns when the fault ended."""
    kill(world, name)
    _down_for(down_s, during)
    end = time.time()
    start(world, name)
    return end


def outage(server: Restartable, down_s: float, during: Callable[[], None] | None = None) -> float:
    """SIGKILL a server, keep it down `down_s`, start it on the same store and port;
    returns the time it was back."""
    server.crash()
    _down_for(down_s, during)
    server.start()
    return time.time()
