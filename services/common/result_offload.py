"""Results by reference: a `JobCompleted` too large for a message carries a summary.

NATS refuses a message over the server's `max_payload` (1 MB by default), and a long
recording's transcript with word timings is many megabytes. Above
`RESULT_MESSAGE_MAX_BYTES` (and never above half the server's limit) the whole result
is stored as `jobs/<job_id>/result.json` and the event carries `summarise(result)`,
whose `full_result` names that object. The ledger stores the event as it comes; the
gateway answers with the whole result again (see services/gateway/job_reads.py).
"""

from __future__ import annotations

from contracts import JobCompleted, ResultRef, summarise

from .adapters.s3 import ObjectStore, output_key
from .errors import PermanentError
from .metrics import S3_BYTES

RESULT_NAME = "result.json"


class ResultTooLarge(PermanentError):
    pass


class ResultOffload:
    def __init__(self, store: ObjectStore | None, limit_bytes: int) -> None:
        self._store = store
        self._limit = limit_bytes

    async def fit(self, event: JobCompleted, max_payload: int) -> JobCompleted:
        """`event` as it may be published: whole, or with its result by reference."""
        limit = min(self._limit, max_payload // 2)
        if len(event.model_dump_json().encode()) <= limit:
            return event
        if self._store is None:
            raise ResultTooLarge("the result is too large for a message and no store is set")
        stored = await self._store.put_bytes(
            output_key(event.job_id, RESULT_NAME),
            event.result.model_dump_json().encode(),
            "application/json",
        )
        S3_BYTES.labels(direction="in").inc(stored.size)
        ref = ResultRef(object_key=stored.key, size=stored.size)
        return event.model_copy(update={"result": summarise(event.result, ref)})
