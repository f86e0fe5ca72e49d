"""Use case: store events (idempotently) and fold the new ones into their jobs.

One transaction per batch: store the events, fold the jobs that only report progress in
one statement (progress_reports.py), lock and read what the rest touch, plan
(planner.py, pure), apply the plan; only after the commit are the outbox rows the plan
wrote published and the webhook sender woken.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from contracts import JobEvent

from . import progress_reports
from .adapters.pg import Conn, Pool, transaction
from .adapters.pg import events as pg_events
from .adapters.pg import fold as pg_fold
from .adapters.pg import progress as pg_progress
from .dispatcher import Dispatcher
from .metrics import EVENTS_INGESTED, INGEST_BATCH, JOBS_CREATED, JOBS_FINISHED
from .planner import FoldPlan, plan


class Ingestion:
    def __init__(
        self, pool: Pool, dispatcher: Dispatcher, on_webhooks: Callable[[], None] | None = None
    ) -> None:
        self._pool = pool
        self._dispatcher = dispatcher
        self._on_webhooks = on_webhooks or (lambda: None)
        self._locking = asyncio.Lock()

    async def ingest(self, events: list[JobEvent], *, own: bool = False) -> int:
        """Returns how many of `events` were new.

        `own`: events the ledger made itself (cancel, cache hits, expiry): they are also
        published, through the outbox of the same transaction. Jobs that move because
        of others (a pipeline's top-level job, a batch parent) get events of their own
        (see mirror.py); jobs reaching a terminal state with a `callback_url` get a
        webhook delivery row.
        """
        fresh, folded, applied = await self._store_and_fold(events, own)
        if applied is not None:
            self._dispatcher.kick(applied.outbox_ids, applied.messages)  # only now: committed
            for job_type in applied.steps_created:
                JOBS_CREATED.labels(type=job_type, source="pipeline").inc()
        if folded is not None:
            if folded.webhooks:
                self._on_webhooks()
            for job_type, status in folded.finished:
                JOBS_FINISHED.labels(type=job_type, status=status).inc()
        INGEST_BATCH.observe(len(events))
        for kind, count in Counter(event.kind for event in events).items():
            EVENTS_INGESTED.labels(kind=kind).inc(count)
        return len(fresh)

    async def _store_and_fold(
        self, events: list[JobEvent], own: bool
    ) -> tuple[list[JobEvent], FoldPlan | None, pg_fold.Applied | None]:
        async with transaction(self._pool) as conn:
            # Storing and locking one batch at a time (the rest of the transaction
            # overlaps): a batch fetched later locks a shared job after the one before
            # it, so their events fold in stream order (a requeue before the next start).
            async with self._locking:
                stored = await pg_events.insert(conn, events)
                fresh = [e for e in events if e.event_id in stored]
                rest = fresh if own else await self._fold_progress(conn, fresh)
                if not rest:
                    return fresh, None, None
                fold_input = await pg_fold.load(conn, sorted({e.job_id for e in rest}))
            folded = plan(fold_input, rest, own=own, now=datetime.now(UTC))
            return fresh, folded, await pg_fold.apply(conn, folded)

    @staticmethod
    async def _fold_progress(conn: Conn, fresh: list[JobEvent]) -> list[JobEvent]:
        """Fold the progress-only jobs in one statement (progress_reports.py); returns
        the events left for the planner."""
        reports, rest = progress_reports.split(fresh)
        if not reports:
            return rest
        touched = sorted({e.job_id for e in fresh})
        taken = await pg_progress.apply(conn, reports, touched)
        left = {r.job_id for r in reports} - taken
        return rest + [e for e in fresh if e.job_id in left]
