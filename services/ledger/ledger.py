"""The ledger's use cases behind one object: what its handlers call.

Each use case lives in its own module (submissions, cancel, queries, files, cache
hits, ingestion); this only builds them over one pool and one dispatcher and names
their entry points.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts import JobEvent

from .adapters.pg import Pool
from .cache_hits import CacheHits
from .cancel import Cancel
from .dead_letters import DeadLetters
from .dispatcher import Dispatcher
from .files import Files
from .ingestion import Ingestion
from .policy import LedgerPolicy
from .queries import Queries
from .result_cache import ResultCache
from .submissions import Submissions


class Ledger:
    def __init__(
        self,
        pool: Pool,
        dispatcher: Dispatcher,
        policy: LedgerPolicy | None = None,
        cache: ResultCache | None = None,
        on_webhooks: Callable[[], None] | None = None,
    ) -> None:
        policy = policy or LedgerPolicy()
        self.ingestion = Ingestion(pool, dispatcher, on_webhooks)
        self.cache_hits = CacheHits(pool, dispatcher, cache, self.ingest_own)
        submissions = Submissions(pool, dispatcher, policy, cache, self.cache_hits.serve_later)
        queries = Queries(pool, policy.retrieval_grace_s, policy.max_reply_bytes)
        files = Files(pool)
        self.submit = submissions.submit
        self.reject = submissions.reject
        self.cancel = Cancel(pool, self.ingest_own).cancel
        self.get_job = queries.get_job
        self.list_jobs = queries.list_jobs
        self.webhooks_of = queries.webhooks_of
        self.queue_stats = queries.queue_stats
        self.register_file = files.register_file
        self.get_file = files.get_file
        self.delete_file = files.delete_file
        self.ingest = self.ingestion.ingest
        self.dead_letters = DeadLetters(pool, policy.max_reply_bytes)

    async def ingest_own(self, events: list[JobEvent]) -> int:
        """Events the ledger makes itself: stored, folded, and published."""
        return await self.ingestion.ingest(events, own=True)
