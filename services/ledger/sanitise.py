"""Text PostgreSQL cannot hold: NUL (`\\u0000`) in a JSON message's strings.

Neither `text` nor `jsonb` accepts NUL, so a message carrying one would be refused
for ever. The ledger stores such text with U+FFFD (the replacement character) instead.
"""

from __future__ import annotations

import json
from typing import Any

REPLACEMENT = "\ufffd"


def has_nul(data: bytes | str) -> bool:
    """Cheap test on the raw JSON (NUL can only appear there escaped)."""
    return (b"\\u0000" in data) if isinstance(data, bytes) else ("\\u0000" in data)


def without_nul(data: bytes | str) -> bytes:
    """The same JSON with NUL replaced in every string and key; non-JSON unchanged."""
    raw = data if isinstance(data, bytes) else data.encode()
    if not has_nul(raw):
        return raw
    try:
        return json.dumps(_clean(json.loads(raw)), ensure_ascii=False).encode()
    except (ValueError, RecursionError):  # not JSON, too deep, a lone surrogate: as sent
        return raw


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", REPLACEMENT)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value
