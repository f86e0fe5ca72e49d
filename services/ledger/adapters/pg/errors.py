"""What a PostgreSQL error means for a message: the database is away, or it refuses
what the message holds."""

from __future__ import annotations

import asyncpg
from asyncpg.exceptions import _base as asyncpg_base

_AWAY = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
    asyncpg.exceptions.TransactionRollbackError,  # 40xxx: deadlock, serialization
)
_REFUSED = (
    asyncpg.DataError,  # 22xxx: a value it cannot hold (NUL in text, out of range)
    asyncpg_base.DataError,  # the client could not encode a value
    asyncpg.IntegrityConstraintViolationError,  # 23xxx
    asyncpg.exceptions.ProgramLimitExceededError,  # 54xxx: a row or value too large
)


def unavailable(exc: BaseException) -> bool:
    """The database cannot be reached or is not serving: a later try may succeed."""
    if isinstance(exc, _REFUSED):
        return False
    if isinstance(exc, asyncpg.InterfaceError):
        return "closed" in str(exc) or "closing" in str(exc)  # pool or connection gone
    return isinstance(exc, _AWAY)


def refused(exc: BaseException) -> bool:
    """The database refuses this very data: every try fails the same way."""
    return isinstance(exc, _REFUSED)


def contended(exc: BaseException) -> bool:
    """A deadlock or serialization failure: this transaction lost to another, now gone."""
    return isinstance(exc, asyncpg.exceptions.TransactionRollbackError)
