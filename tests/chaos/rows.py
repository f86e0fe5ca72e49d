"""The fault rows: SIGKILL of each service, NATS and PostgreSQL crashes, the ledger away."""

from __future__ import annotations

import time
from collections.abc import Callable

from . import faults, media_gen, upstream
from .scenario import CONVERT, FIX_SRT, MIXED, TRANSCRIBE, Fault, Scenario, Work
from .world import World

UPSTREAM_JOBS = 3  # submitted on jobs.submit during a database or ledger outage
RECOVERY_PAUSE_S = 3.0  # between kills: the restarted worker takes up work again


def repeated_kills(name: str, times: int) -> Fault:
    """SIGKILL `name` `times` times, each while work is in flight, restarting it after 1 s."""

    def fault(world: World, ids: list[str]) -> float:
        end = time.time()
        for i in range(times):
            if i:
                time.sleep(RECOVERY_PAUSE_S)
            end = faults.kill_and_restart(world, name)
        return end

    return fault


def _upstream_during(world: World, ids: list[str], n: int) -> Callable[[], None]:
    """Submissions on jobs.submit made while the ledger or its database is away (they
    must be stored once it is back): the srt is uploaded now, the jobs published later."""
    file_id = world.upload(media_gen.srt(world.root), "application/x-subrip")
    return lambda: ids.extend(upstream.submit(world.nats_url, file_id, n))


def service_down(name: str, down_s: float, upstream_jobs: int = 0) -> Fault:
    def fault(world: World, ids: list[str]) -> float:
        during = _upstream_during(world, ids, upstream_jobs)
        return faults.kill_and_restart(world, name, down_s, during)

    return fault


def server_down(which: str, down_s: float, upstream_jobs: int = 0) -> Fault:
    """Crash NATS or PostgreSQL for `down_s` seconds and start it on the same store;
    `upstream_jobs` submissions on jobs.submit are made while it is down (PostgreSQL)."""

    def fault(world: World, ids: list[str]) -> float:
        server = world.infra.nats if which == "nats" else world.infra.pg
        during = _upstream_during(world, ids, upstream_jobs) if upstream_jobs else None
        time.sleep(1.0)  # jobs are running, some events and heartbeats on the wire
        return faults.outage(server, down_s, during)

    return fault


def _kill(row: str, service: str, work: Work, times: int) -> Scenario:
    return Scenario(row, (work,), repeated_kills(service, times))


def scenarios() -> dict[str, Scenario]:
    rows = [
        _kill("kill-transcriber", "transcriber", TRANSCRIBE, 3),
        _kill("kill-converter", "converter", CONVERT, 2),
        _kill("kill-srt-fixer", "srt-fixer", FIX_SRT, 2),
        Scenario("kill-ledger", MIXED, repeated_kills("ledger", 2)),
        Scenario("kill-gateway", MIXED, repeated_kills("gateway", 2)),
        Scenario("nats-restart-3s", MIXED, server_down("nats", 3)),
        Scenario("nats-restart-45s", MIXED, server_down("nats", 45), deadline_s=300),
        Scenario("postgres-restart-3s", MIXED, server_down("pg", 3, UPSTREAM_JOBS)),
        Scenario(
            "postgres-restart-60s", MIXED, server_down("pg", 60, UPSTREAM_JOBS), deadline_s=300
        ),
        Scenario(
            "ledger-down-60s", MIXED, service_down("ledger", 60, UPSTREAM_JOBS), deadline_s=300
        ),
    ]
    return {s.row: s for s in rows}
