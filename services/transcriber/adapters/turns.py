"""Turns in order of arrival: at most `at_once` holders, the others served first come,
first served (a `threading.Semaphore` wakes whichever waiter it likes, and waiters that
time out to check for cancellation lose their place)."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import Cancelled


class Turns:
    def __init__(self, at_once: int = 1) -> None:
        self._at_once = max(1, at_once)
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()  # holders first, then waiters in order

    @contextmanager
    def turn(self, cancelled: Callable[[], bool], poll_s: float = 0.5) -> Iterator[None]:
        """Waits for this caller's turn; raises `Cancelled` (leaving its place) when
        `cancelled()` turns true while it waits."""
        me = object()
        with self._cond:
            self._queue.append(me)
            while not self._holds(me):
                if cancelled():
                    self._leave(me)
                    raise Cancelled
                self._cond.wait(poll_s)
        try:
            yield
        finally:
            with self._cond:
                self._leave(me)

    def waiting(self) -> int:
        with self._cond:
            return max(0, len(self._queue) - self._at_once)

    def _holds(self, me: object) -> bool:
        return any(entry is me for entry in itertools.islice(self._queue, self._at_once))

    def _leave(self, me: object) -> None:
        self._queue.remove(me)
        self._cond.notify_all()
