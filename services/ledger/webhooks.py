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

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

SIGNATURE_HEADER = "Jetscribe-Signature"
TIMESTAMP_HEADER = "Jetscribe-Timestamp"


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
