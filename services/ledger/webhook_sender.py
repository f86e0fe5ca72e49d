"""The webhook sender: a loop that POSTs due deliveries and records every attempt.

It never runs inside event folding, so a slow receiver never holds up jobs (see
webhooks.py for the body, the signature and the retry rules).
"""

from __future__ import annotations

import asyncio
import time

import httpx

from services.common.logging import get_logger
from services.common.periodic import Periodic

from .adapters.pg import Pool
from .adapters.pg import webhooks as pg_webhooks
from .callback_urls import InvalidCallback, check_url
from .metrics import WEBHOOK_ATTEMPTS
from .records import WebhookDue
from .webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookPolicy, sign

log = get_logger(__name__)


class WebhookSender:
    def __init__(self, pool: Pool, policy: WebhookPolicy) -> None:
        self._pool = pool
        self._policy = policy
        self._client = httpx.AsyncClient(timeout=policy.timeout_s, follow_redirects=False)
        self._loop = Periodic("webhooks", self.send_due, policy.poll_s)

    def wake(self) -> None:
        """New deliveries were committed: send now rather than at the next poll."""
        self._loop.wake()

    async def start(self) -> None:
        await self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self._client.aclose()

    async def send_due(self) -> int:
        lease = self._policy.timeout_s * 3 + 30
        due = await pg_webhooks.claim(self._pool, self._policy.concurrency, lease)
        await asyncio.gather(*(self._deliver(d) for d in due))
        return len(due)

    async def _deliver(self, due: WebhookDue) -> None:
        attempt = due.attempts + 1
        started = time.perf_counter()
        status_code, error, retry = await self._post(due, attempt)
        duration_ms = (time.perf_counter() - started) * 1000
        ok = status_code is not None and 200 <= status_code < 300
        if ok:
            outcome, retry_in = "delivered", None
        elif retry and attempt < self._policy.max_attempts:
            outcome, retry_in = "pending", self._policy.backoff(attempt)
        else:
            outcome, retry_in = "failed", None
        WEBHOOK_ATTEMPTS.labels(outcome="ok" if ok else ("retry" if retry else "final")).inc()
        log.info(
            "webhook attempt",
            job_id=str(due.job_id),
            attempt=attempt,
            status_code=status_code,
            error=error,
            outcome=outcome,
        )
        await pg_webhooks.record_attempt(
            self._pool,
            pg_webhooks.Attempt(due.id, attempt, status_code, error, duration_ms),
            outcome,
            retry_in,
        )

    async def _post(self, due: WebhookDue, attempt: int) -> tuple[int | None, str | None, bool]:
        """One POST: (HTTP status, error, whether another attempt may succeed)."""
        try:
            await check_url(due.url, self._policy.allow_private)
            timestamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "user-agent": "jetscribe-webhooks/1",
                TIMESTAMP_HEADER: str(timestamp),
                "Jetscribe-Delivery": f"{due.job_id}:{attempt}",
            }
            if self._policy.secret:
                headers[SIGNATURE_HEADER] = sign(self._policy.secret, timestamp, due.payload)
            response = await self._client.post(due.url, content=due.payload, headers=headers)
        except InvalidCallback as exc:
            return None, str(exc), False
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}".strip(": "), True
        return response.status_code, None, response.status_code >= 500
