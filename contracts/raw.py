"""What can be read from a message's raw bytes without (or before) parsing it whole.

For messages that fail validation (to name the job in a `JobFailed`) and for the few
hot paths that only need an event's `kind`.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID


def json_object(data: bytes | str) -> dict[str, Any]:
    """The message as a JSON object, or `{}` when it is not one. Never raises.

    Not JSON, not UTF-8 (or UTF-16/32), an integer past Python's digit limit, or nested
    deeper than the parser's recursion limit: all of them are simply not a JSON object.
    """
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return {}
    return value if isinstance(value, dict) else {}


def event_kind(data: bytes | str) -> str | None:
    """An event's `kind` (`"completed"`, ...), or None when there is none."""
    kind = json_object(data).get("kind")
    return kind if isinstance(kind, str) else None


def job_id(data: bytes | str) -> UUID | None:
    """The `job_id` a message names, if it names a valid one."""
    try:
        return UUID(str(json_object(data).get("job_id")))
    except ValueError:
        return None
