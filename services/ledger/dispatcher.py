"""Outbox dispatcher: publishes committed outbox rows to JetStream, then marks them.

Rows are published right after their transaction commits (`kick`); a sweeper
re-publishes anything older that JetStream has not confirmed, including at start-up.
`Nats-Msg-Id` makes a repeated publish a no-op inside the stream's duplicate window.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence

from nats.js import JetStreamContext

from contracts import subjects
from services.common.logging import get_logger

from .adapters.pg import Pool
from .adapters.pg import outbox as pg_outbox
from .builders import PRODUCER
from .metrics import OUTBOX_PUBLISHED
from .records import OutboxMessage

log = get_logger(__name__)


ORIGIN_HEADER = "Jetscribe-Origin"
LEDGER_ORIGIN = PRODUCER


def headers_for(
    subject: str, msg_id: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    headers = {**(extra or {}), "Nats-Msg-Id": msg_id}
    if subject.startswith(subjects.JOBS_EVENTS_PREFIX):
        # Events the ledger publishes are already stored (same transaction as the job):
        # its own intake skips them without parsing.
        headers[ORIGIN_HEADER] = LEDGER_ORIGIN
    return headers


class Dispatcher:
    def __init__(self, pool: Pool, js: JetStreamContext, sweep_interval_s: float = 5.0) -> None:
        self._pool = pool
        self._js = js
        self._sweep_interval_s = sweep_interval_s
        self._pending: asyncio.Queue[tuple[int, OutboxMessage]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def kick(self, ids: Sequence[int], messages: Sequence[OutboxMessage]) -> None:
        """Publish rows just committed (ids in the order of `messages`)."""
        for row in zip(ids, messages, strict=True):
            self._pending.put_nowait(row)

    async def start(self) -> None:
        await self.sweep(older_than_s=0)  # re-publish what a previous run left behind
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="outbox-publish"),
            asyncio.create_task(self._sweep_loop(), name="outbox-sweep"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _publish_loop(self) -> None:
        while True:
            rows = [await self._pending.get()]
            while not self._pending.empty() and len(rows) < 500:
                rows.append(self._pending.get_nowait())
            try:
                await self._publish(rows)
            except Exception as exc:  # the sweeper retries what did not go out
                log.warning("outbox publish failed", error=str(exc), rows=len(rows))

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval_s)
            try:
                await self.sweep(older_than_s=self._sweep_interval_s)
            except Exception as exc:
                log.warning("outbox sweep failed", error=str(exc))

    async def sweep(self, older_than_s: float) -> int:
        total = 0
        while True:
            rows = await pg_outbox.unpublished(self._pool, older_than_s, 500)
            if not rows:
                return total
            published = await self._publish(rows)
            total += published
            if published < len(rows):
                return total

    async def _publish(self, rows: Sequence[tuple[int, OutboxMessage]]) -> int:
        if not rows:
            return 0
        results = await asyncio.gather(
            *(
                self._js.publish(
                    m.subject, m.payload, headers=headers_for(m.subject, m.msg_id, m.headers)
                )
                for _, m in rows
            ),
            return_exceptions=True,
        )
        done = [
            i
            for (i, _), res in zip(rows, results, strict=True)
            if not isinstance(res, BaseException)
        ]
        await pg_outbox.mark_published(self._pool, done)
        OUTBOX_PUBLISHED.inc(len(done))
        failed = len(rows) - len(done)
        if failed:
            log.warning("outbox rows not confirmed", failed=failed)
        return len(done)
