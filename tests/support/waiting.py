"""Waiting on a condition instead of sleeping and hoping it happened.

`wait_until` (threads, processes, HTTP) and `async_wait_until` (inside an event loop)
poll `predicate` until it returns something truthy, which they return; past `timeout`
seconds they fail naming `what`. The polling interval only sets how soon the test
notices; the timeout is a deadline for something that should happen much sooner,
so make it generous: a loaded machine must meet it.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T | None],
    timeout: float,
    what: str = "the condition",
    interval: float = 0.1,
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not true after {timeout}s")
        time.sleep(interval)


@overload
async def async_wait_until(
    predicate: Callable[[], Awaitable[T | None]],
    timeout: float,
    what: str = ...,
    interval: float = ...,
) -> T: ...


@overload
async def async_wait_until(
    predicate: Callable[[], T | None],
    timeout: float,
    what: str = ...,
    interval: float = ...,
) -> T: ...


async def async_wait_until(
    predicate: Callable[[], Any],
    timeout: float,
    what: str = "the condition",
    interval: float = 0.05,
) -> Any:
    """`predicate` may be a plain function or a coroutine function."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not true after {timeout}s")
        await asyncio.sleep(interval)
