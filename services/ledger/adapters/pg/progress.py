"""Progress-only jobs folded in one statement (see services/ledger/progress_reports.py)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from contracts import TERMINAL_STATUSES

from ...progress_reports import ProgressReport
from . import Conn
from .fold import RELATED

_TERMINAL = sorted(s.value for s in TERMINAL_STATUSES)


async def apply(
    conn: Conn, reports: Sequence[ProgressReport], touched: Sequence[UUID]
) -> set[UUID]:
    """Fold `reports` into their jobs where they are plain (no batch parent, no pipeline):
    the rule of fold.py's `JobProgressed` case. Returns the reports' jobs it took (plain
    ones, and ids no job has); the rest are the planner's.

    First it locks every job the batch `touched`, with what they move, in id order — the
    order `load` locks in — so that batches folding side by side queue on their rows
    rather than deadlock; `load` then finds its rows locked already.
    """
    rows = await conn.fetch(
        f"""WITH {RELATED.format(5)},
                 locked AS (SELECT id, parent_id, pipeline_root FROM jobs
                            WHERE id IN (SELECT id FROM related) ORDER BY id FOR UPDATE),
                 u AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::float8[],
                                            $4::timestamptz[])
                            AS u(id, attempt, progress, first_at)),
                 taken AS (SELECT u.id, l.id AS job FROM u LEFT JOIN locked l ON l.id = u.id
                           WHERE l.id IS NULL
                              OR (l.parent_id IS NULL AND l.pipeline_root IS NULL)),
                 moved AS (UPDATE jobs AS j SET
                               status = 'processing',
                               attempt = u.attempt,
                               progress = CASE WHEN u.attempt > j.attempt THEN u.progress
                                               ELSE GREATEST(j.progress, u.progress) END,
                               started_at = COALESCE(j.started_at, u.first_at),
                               updated_at = now()
                           FROM u JOIN taken t ON t.job = u.id
                           WHERE j.id = u.id AND u.attempt >= j.attempt
                             AND j.status <> ALL($6::text[])
                             AND NOT (j.status = 'processing' AND j.attempt = u.attempt
                                      AND j.progress >= u.progress
                                      AND j.started_at IS NOT NULL)  -- nothing would change
                           RETURNING j.id)
            SELECT id FROM taken""",
        [r.job_id for r in reports],
        [r.attempt for r in reports],
        [r.progress for r in reports],
        [r.first_at for r in reports],
        list(touched),
        _TERMINAL,
    )
    return {r["id"] for r in rows}
