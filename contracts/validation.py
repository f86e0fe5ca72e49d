"""One wording for validation errors everywhere: `"<where>: <message>"`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError


def first_error(errors: ValidationError | Sequence[Mapping[str, Any]], prefix: str = "") -> str:
    """The first error as `"<prefix>.<loc>: <msg>"` (FastAPI's error lists work too).

    `prefix` names where the validated value sits (e.g. `options`); without a location
    the message stands alone, or after the prefix.
    """
    items = errors.errors() if isinstance(errors, ValidationError) else errors
    if not items:
        return prefix or "invalid"
    first = items[0]
    where = ".".join(p for p in (prefix, ".".join(str(x) for x in first.get("loc", ()))) if p)
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))


def first_field(errors: ValidationError) -> str | None:
    """The dotted location of the first error, if it has one."""
    items = errors.errors()
    return ".".join(str(p) for p in items[0]["loc"]) or None if items else None
