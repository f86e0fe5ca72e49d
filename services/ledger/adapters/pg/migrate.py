"""Versioned SQL migrations applied at start-up, once, under an advisory lock."""

from __future__ import annotations

import re
from importlib import resources

import asyncpg

from services.common.logging import get_logger

log = get_logger(__name__)
_LOCK_ID = 0x6A657473  # "jets": serialises replicas starting together
_NAME = re.compile(r"^(\d{4})_([\w-]+)\.sql$")


def available() -> list[tuple[int, str, str]]:
    folder = resources.files("services.ledger") / "migrations"
    out = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            out.append((int(match.group(1)), entry.name, entry.read_text()))
    return sorted(out)


async def apply_migrations(pool: asyncpg.Pool) -> list[str]:
    applied: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version integer PRIMARY KEY,
                       name text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for version, name, sql in available():
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        version,
                        name,
                    )
                log.info("migration applied", migration=name)
                applied.append(name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    return applied
