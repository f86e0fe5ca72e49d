"""The background round runner: survives failing rounds, runs early when woken."""

from __future__ import annotations

import asyncio

from services.common.periodic import Periodic


async def test_a_failing_round_is_retried_and_wake_runs_one_early() -> None:
    calls: list[float] = []

    async def round_() -> None:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) == 1:
            raise ConnectionError("database away")

    loop = Periodic("test", round_, interval_s=30.0)
    await loop.start()
    await asyncio.sleep(0.05)
    assert len(calls) == 1  # the first round at once; it failed
    loop.wake()
    await asyncio.sleep(0.05)
    assert len(calls) == 2  # not 30 s later: woken, and the loop survived the failure
    await loop.stop()
    loop.wake()
    await asyncio.sleep(0.05)
    assert len(calls) == 2  # stopped means stopped
