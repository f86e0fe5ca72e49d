"""Turns to cut a job's chunks: first come, first served, and a cancelled waiter leaves."""

from __future__ import annotations

import threading
import time

import pytest

from services.transcriber.adapters.turns import Turns
from services.transcriber.errors import Cancelled


def test_waiters_get_their_turn_in_order_of_arrival() -> None:
    turns = Turns(1)
    order: list[int] = []
    gate = threading.Event()

    def job(i: int) -> None:
        with turns.turn(lambda: False, poll_s=0.01):  # short polls: a semaphore would reorder
            if i == 0:
                gate.wait(5)
            order.append(i)
            time.sleep(0.02)

    threads = []
    for i in range(6):
        threads.append(threading.Thread(target=job, args=(i,)))
        threads[-1].start()
        time.sleep(0.05)  # arrivals in a known order, all while job 0 holds the turn
    assert turns.waiting() == 5
    gate.set()
    for thread in threads:
        thread.join(5)
    assert order == list(range(6))


def test_at_once_holders_share_and_a_cancelled_waiter_leaves_its_place() -> None:
    turns = Turns(2)
    release = threading.Event()
    inside = threading.Barrier(3)

    def holder() -> None:
        with turns.turn(lambda: False):
            inside.wait(5)
            release.wait(5)

    holders = [threading.Thread(target=holder) for _ in range(2)]
    for thread in holders:
        thread.start()
    inside.wait(5)  # both hold a turn at once
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    with pytest.raises(Cancelled), turns.turn(stop.is_set, poll_s=0.02):
        pass
    assert turns.waiting() == 0
    release.set()
    for thread in holders:
        thread.join(5)
    with turns.turn(lambda: False):  # free again
        assert turns.waiting() == 0
