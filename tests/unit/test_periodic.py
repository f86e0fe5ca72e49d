"""The background round runner: survives failing rounds, runs early when woken."""

from __future__ import annotations

import asyncio

from services.common.periodic import Periodic


async def test_a_failing_round_is_retried_and_wake_runs_one_early() -> None:
    calls: list[float] = []
    ran = asyncio.Event()  # set by every round: the test waits on it, not on a clock

    async def round_() -> None:
        calls.append(asyncio.get_running_loop().time())
        ran.set()
        if len(calls) == 1:
            raise ConnectionError("database away")

    loop = Periodic("test", round_, interval_s=30.0)
    await loop.start()
    await asyncio.wait_for(ran.wait(), timeout=5)
    assert len(calls) == 1  # the first round at once; it failed
    ran.clear()
    loop.wake()
    # 5 s, far below the 30-s interval: a second round within it was woken early.
    await asyncio.wait_for(ran.wait(), timeout=5)
    assert len(calls) == 2  # not 30 s later: woken, and the loop survived the failure
    await loop.stop()
    loop.wake()
    # A window on purpose: proving that nothing runs after stop needs some time to pass.
    await asyncio.sleep(0.05)
    assert len(calls) == 2  # stopped means stopped
