"""The ledger's rules that come from its settings, as the use cases see them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LedgerPolicy:
    retrieval_grace_s: float = 300.0
    max_batch_files: int = 1000
    webhooks_enabled: bool = True
    webhook_allow_private: bool = False
    # A reply must fit one NATS message (the server's max_payload, less room for headers).
    max_reply_bytes: int = 1024 * 1024 - 16 * 1024
