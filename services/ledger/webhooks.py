"""Webhooks: a POST to the job's `callback_url` when it reaches a terminal state.

The delivery row is written in the same transaction as the terminal state, so no
webhook is lost; a loop sends due deliveries, never inside event folding, so a slow
receiver never holds up jobs. Each attempt is recorded.

Body `{job_id, status, type, error, finished_at}`; headers
`Jetscribe-Timestamp: <unix seconds>` and
`Jetscribe-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
Timeouts, connection errors and 5xx are retried with exponential backoff up to
`max_attempts`; any other status (4xx) ends the delivery.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx

from services.common.logging import get_logger
from services.common.periodic import Periodic

from .metrics import WEBHOOK_ATTEMPTS
from .repository import Repository

log = get_logger(__name__)
SIGNATURE_HEADER = "Jetscribe-Signature"
TIMESTAMP_HEADER = "Jetscribe-Timestamp"


class InvalidCallback(ValueError):
    pass


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (also used by the tests)."""
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def payload(
    job_id: UUID, status: str, job_type: str, error: dict[str, str] | None, finished_at: Any
) -> bytes:
    body = {
        "job_id": str(job_id),
        "status": status,
        "type": job_type,
        "error": error,
        "finished_at": finished_at.isoformat() if finished_at else None,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


async def check_url(url: str, allow_private: bool) -> None:
    """http(s) only; with `allow_private` False, no host that resolves to a private,
    loopback or link-local address (checked again at every delivery: DNS may change)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidCallback("callback_url must be an http or https URL with a host")
    if parts.username or parts.password:
        raise InvalidCallback("callback_url must not carry credentials")
    if allow_private:
        return
    host = parts.hostname
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise InvalidCallback(f"callback_url host {host!r} does not resolve") from exc
    if any(_is_private(str(info[4][0])) for info in infos):
        raise InvalidCallback(
            f"callback_url host {host!r} is a private address (WEBHOOK_ALLOW_PRIVATE=false)"
        )


@dataclass(frozen=True)
class WebhookPolicy:
    secret: str | None
    allow_private: bool = False
    max_attempts: int = 10
    backoff_base_s: float = 1.0
    backoff_max_s: float = 3600.0
    timeout_s: float = 10.0
    poll_s: float = 1.0
    concurrency: int = 16

    def backoff(self, attempt: int) -> float:
        return float(min(self.backoff_base_s * 2 ** (attempt - 1), self.backoff_max_s))


class WebhookSender:
    def __init__(self, repo: Repository, policy: WebhookPolicy) -> None:
        self._repo = repo
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
        rows = await self._repo.claim_webhooks(self._policy.concurrency, lease)
        await asyncio.gather(*(self._deliver(r) for r in rows))
        return len(rows)

    async def _deliver(self, row: Any) -> None:
        attempt = row["attempts"] + 1
        body = bytes(row["payload"])
        status_code: int | None = None
        error: str | None = None
        started = time.perf_counter()
        try:
            await check_url(row["url"], self._policy.allow_private)
            timestamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "user-agent": "jetscribe-webhooks/1",
                TIMESTAMP_HEADER: str(timestamp),
                "Jetscribe-Delivery": f"{row['job_id']}:{attempt}",
            }
            if self._policy.secret:
                headers[SIGNATURE_HEADER] = sign(self._policy.secret, timestamp, body)
            response = await self._client.post(row["url"], content=body, headers=headers)
            status_code = response.status_code
            retry = status_code >= 500
            ok = 200 <= status_code < 300
        except InvalidCallback as exc:
            error, retry, ok = str(exc), False, False
        except httpx.HTTPError as exc:
            error, retry, ok = f"{type(exc).__name__}: {exc}".strip(": "), True, False
        duration_ms = (time.perf_counter() - started) * 1000
        if ok:
            outcome, retry_in = "delivered", None
        elif retry and attempt < self._policy.max_attempts:
            outcome, retry_in = "pending", self._policy.backoff(attempt)
        else:
            outcome, retry_in = "failed", None
        WEBHOOK_ATTEMPTS.labels(outcome="ok" if ok else ("retry" if retry else "final")).inc()
        log.info(
            "webhook attempt",
            job_id=str(row["job_id"]),
            attempt=attempt,
            status_code=status_code,
            error=error,
            outcome=outcome,
        )
        await self._repo.record_webhook_attempt(
            row["id"], attempt, status_code, error, duration_ms, outcome, retry_in
        )
