"""Use case: record dead letters and list them for operators."""

from __future__ import annotations

from contracts import DeadLetter, DeadLetterListRequest, DeadLetterListResponse

from .adapters.pg import Pool
from .adapters.pg import dead_letters as pg_dead_letters


class DeadLetters:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def record(self, letter: DeadLetter) -> bool:
        return await pg_dead_letters.insert(self._pool, letter)

    async def list(self, req: DeadLetterListRequest) -> DeadLetterListResponse:
        items = await pg_dead_letters.page(self._pool, req.limit + 1, req.before)
        more = len(items) > req.limit
        items = items[: req.limit]
        return DeadLetterListResponse(items=items, next_before=items[-1].id if more else None)
