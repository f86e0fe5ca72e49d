"""Use case: record dead letters and list them for operators."""

from __future__ import annotations

from contracts import DeadLetter, DeadLetterListRequest, DeadLetterListResponse

from .adapters.pg import Pool
from .adapters.pg import dead_letters as pg_dead_letters


class DeadLetters:
    def __init__(self, pool: Pool, max_reply_bytes: int = 1024 * 1024 - 16 * 1024) -> None:
        self._pool = pool
        self._max_reply_bytes = max_reply_bytes

    async def record(self, letter: DeadLetter) -> bool:
        return await pg_dead_letters.insert(self._pool, letter)

    async def list(self, req: DeadLetterListRequest) -> DeadLetterListResponse:
        items = await pg_dead_letters.page(self._pool, req.limit + 1, req.before)
        more = len(items) > req.limit
        items = items[: req.limit]
        budget = self._max_reply_bytes - 256  # the page must fit one NATS message
        for i, item in enumerate(items):
            budget -= len(item.model_dump_json().encode()) + 1
            if budget < 0 and i > 0:
                items, more = items[:i], True
                break
        return DeadLetterListResponse(items=items, next_before=items[-1].id if more else None)
