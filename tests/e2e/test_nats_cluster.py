"""A 3-node NATS cluster on this machine (three nats-server processes, every stream and
KV bucket with 3 replicas): a node SIGKILLed while jobs run loses none of them.

The node killed is the worst one to lose: the one most service connections are on, made
leader first of every stream and consumer (and the JetStream meta leader when it is
that one already). More jobs are submitted while it is down, retried on 503 with the
same `Idempotency-Key` as a user would. Every job completes on the two nodes left,
exactly once, none fails and none is created twice; the node then comes back and
catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from contracts import streams
from tests.support.nats_cluster import Cluster, start_cluster
from tests.support.stack import Stack
from tests.support.waiting import async_wait_until

REPLICAS = 3
JOBS_BEFORE = 14  # submitted before the kill: a few done, the rest queued or running
JOBS_DURING = 8  # submitted while the node is down
DONE_BEFORE_KILL = 3
OBSERVER = "cluster-test-observer"
TERMINAL = {"completed", "failed", "cancelled", "expired"}
OPTIONS = {"preset": "audio_wav_16k_mono"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = start_cluster(tmp_path_factory.mktemp("nats-cluster"), size=REPLICAS)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def module_nats_url(cluster: Cluster) -> str:
    """The stack's NATS_URL: every node's client URL, comma-separated. The services
    create the replicated streams themselves, starting together (`ensure_streams`
    retries the race that makes)."""
    return cluster.url


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "converter", "gateway")


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return {
        "STREAM_REPLICAS": str(REPLICAS),
        "CONVERTER_MAX_CONCURRENT_JOBS": "2",
        # A delivery lost with the node comes back after 15 s, not the default minute.
        "ACK_WAIT_S": "15",
        "HEARTBEAT_S": "3",
    }


@pytest.fixture
async def observer(cluster: Cluster) -> AsyncIterator[Client]:
    nc = await nats.connect(servers=cluster.urls, name=OBSERVER, max_reconnect_attempts=-1)
    yield nc
    await nc.close()


async def test_a_node_killed_mid_run_loses_no_job(
    stack: Stack, cluster: Cluster, observer: Client, speech_mp3: Path, tmp_path: Path
) -> None:
    js = observer.jetstream()
    names = await assert_every_stream_has_three_replicas(js, cluster)
    target = busiest_node(cluster)
    summary: dict[str, Any] = {
        "killed": cluster.nodes[target].name,
        "clients": {n.name: cluster.clients(i) for i, n in enumerate(cluster.nodes)},
        "was_meta_leader": cluster.meta_leader() == target,
    }
    summary["moved"] = await lead_everything_from(observer, js, names, cluster.nodes[target].name)

    db = await asyncpg.connect(stack.database_url)
    try:
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as http:
            file_id = await upload(http, speech_mp3)
            keys = [f"cluster-{i}-{uuid.uuid4().hex[:8]}" for i in range(JOBS_BEFORE + JOBS_DURING)]
            jobs: dict[str, str] = {}
            retries: Counter[str] = Counter()
            for key in keys[:JOBS_BEFORE]:
                jobs[key] = await submit(http, file_id, key, retries)

            async def done_enough() -> int | None:
                done = await completed_count(db)
                return done if done >= DONE_BEFORE_KILL else None

            await async_wait_until(done_enough, 90, "the first jobs completed", interval=0.1)
            cluster.kill(target)
            killed_at = time.monotonic()
            summary["completed_at_kill"] = done_at_kill = await completed_count(db)
            assert done_at_kill < JOBS_BEFORE, "every job ended before the kill: not mid-run"

            for key in keys[JOBS_BEFORE:]:
                jobs[key] = await submit(http, file_id, key, retries)
            summary["submitted_during_outage_s"] = round(time.monotonic() - killed_at, 1)
            summary["submit_retries"] = dict(retries)

            final = {key: await wait_terminal(http, job_id) for key, job_id in jobs.items()}
            summary["all_done_after_kill_s"] = round(time.monotonic() - killed_at, 1)
            assert not cluster.nodes[target].alive()  # all of it on the two nodes left
            statuses = Counter(job["status"] for job in final.values())
            assert statuses == {"completed": len(keys)}, (statuses, stack.logs())

            # The same key again is the same job, not a new one.
            again = await submit(http, file_id, keys[-1], retries)
            assert again == jobs[keys[-1]]

        events = await events_of(db, list(jobs.values()))
        stored = await db.fetch("SELECT id::text, idempotency_key FROM jobs")
    finally:
        await db.close()

    assert len(set(jobs.values())) == len(keys), "two keys got the same job"
    assert {r["id"]: r["idempotency_key"] for r in stored} == {v: k for k, v in jobs.items()}
    for job_id, kinds in events.items():
        assert kinds.count("completed") == 1, (job_id, kinds)
        assert "failed" not in kinds and "cancelled" not in kinds, (job_id, kinds)
    summary["starts_per_job"] = dict(Counter(k.count("started") for k in events.values()))

    restarted_at = time.monotonic()
    await asyncio.to_thread(cluster.start, target, 60)
    await assert_caught_up(js, names, cluster.nodes[target].name)
    summary["caught_up_after_restart_s"] = round(time.monotonic() - restarted_at, 1)
    (tmp_path / "summary.json").write_text(json.dumps(summary, indent=2))


# --- the cluster ---------------------------------------------------------------------------


async def assert_every_stream_has_three_replicas(
    js: JetStreamContext, cluster: Cluster
) -> list[str]:
    """Each stream the services made (the KV buckets' too) has 3 replicas, one per node;
    returns their names."""
    infos = await js.streams_info()
    names = sorted(info.config.name or "" for info in infos)
    for required in (streams.JOBS_STREAM, streams.EVENTS_STREAM, streams.DEAD_LETTERS_STREAM):
        assert required in names, names
    assert f"KV_{streams.RUNNING_KV}" in names and f"KV_{streams.WORKERS_KV}" in names, names
    nodes = {n.name for n in cluster.nodes}
    for info in infos:
        assert info.config.num_replicas == REPLICAS, (info.config.name, info.config)
        assert info.cluster is not None
        peers = {info.cluster.leader} | {r.name for r in info.cluster.replicas or []}
        assert peers == nodes, (info.config.name, peers)
    return names


def busiest_node(cluster: Cluster) -> int:
    """The node most service connections are on (the meta leader among equals)."""
    meta = cluster.meta_leader()

    def weight(i: int) -> tuple[int, bool]:
        return (sum(name != OBSERVER for name in cluster.clients(i)), i == meta)

    return max(range(len(cluster.nodes)), key=weight)


async def lead_everything_from(
    nc: Client, js: JetStreamContext, stream_names: list[str], node: str
) -> list[str]:
    """Makes `node` the leader of each stream and of each of their consumers (a leader
    stepdown that prefers it); returns what was moved."""
    moved: list[str] = []
    for stream in stream_names:
        if await move_leader(nc, js, stream, None, node):
            moved.append(stream)
        for consumer in await js.consumers_info(stream):
            if await move_leader(nc, js, stream, consumer.name, node):
                moved.append(f"{stream}/{consumer.name}")
    return moved


async def leader_of(js: JetStreamContext, stream: str, consumer: str | None) -> str | None:
    try:
        info = await (js.consumer_info(stream, consumer) if consumer else js.stream_info(stream))
    except Exception:  # no leader for a moment: the election is under way
        return None
    return info.cluster.leader if info.cluster else None


async def move_leader(
    nc: Client, js: JetStreamContext, stream: str, consumer: str | None, node: str
) -> bool:
    """Whether the leader had to move to `node` (it has once this returns)."""
    if await leader_of(js, stream, consumer) == node:
        return False
    subject = (
        f"$JS.API.CONSUMER.LEADER.STEPDOWN.{stream}.{consumer}"
        if consumer
        else f"$JS.API.STREAM.LEADER.STEPDOWN.{stream}"
    )
    request = json.dumps({"placement": {"preferred": node}}).encode()

    async def moved() -> bool:
        leader = await leader_of(js, stream, consumer)
        if leader == node:
            return True
        if leader is not None:
            with contextlib.suppress(Exception):
                await nc.request(subject, request, timeout=5)
        return False

    await async_wait_until(moved, 30, f"{stream}/{consumer or ''} led by {node}", interval=0.5)
    return True


async def assert_caught_up(js: JetStreamContext, stream_names: list[str], node: str) -> None:
    """Every stream has its three replicas again, the restarted node's current."""

    async def current() -> bool:
        for stream in stream_names:
            try:
                info = await js.stream_info(stream)
            except Exception:
                return False
            if info.cluster is None or info.cluster.leader is None:
                return False
            replicas = {r.name: r.current for r in info.cluster.replicas or []}
            if len(replicas) != REPLICAS - 1 or not all(replicas.values()):
                return False
            if node != info.cluster.leader and node not in replicas:
                return False
        return True

    await async_wait_until(current, 60, f"{node} caught up", interval=0.5)


# --- the API and the ledger's records ------------------------------------------------------


async def upload(http: httpx.AsyncClient, path: Path) -> str:
    data = await asyncio.to_thread(path.read_bytes)
    r = await http.post("/v1/files", files={"file": (path.name, data, "audio/mpeg")})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def submit(http: httpx.AsyncClient, file_id: str, key: str, retries: Counter[str]) -> str:
    """Submits a convert job, again with the same key while the API answers 503 (or the
    connection fails); returns its id."""
    body = {"type": "convert", "file_id": file_id, "options": OPTIONS, "cache": False}
    deadline = time.monotonic() + 90
    while True:
        try:
            r = await http.post("/v1/jobs", json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError as exc:
            reason = type(exc).__name__
        else:
            if r.status_code == 202:
                return str(r.json()["id"])
            assert r.status_code == 503, r.text
            reason = "503"
        retries[reason] += 1
        assert time.monotonic() < deadline, f"submission {key}: still {reason} after 90s"
        await asyncio.sleep(0.5)


async def wait_terminal(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """The job once it has ended, asked through the gateway (through 503s on the way)."""
    deadline = time.monotonic() + 150
    while True:
        try:
            r = await http.get(f"/v1/jobs/{job_id}", params={"wait": 10})
        except httpx.TransportError:
            pass
        else:
            if r.status_code == 200 and r.json()["status"] in TERMINAL:
                return r.json()  # type: ignore[no-any-return]
            assert r.status_code in (200, 503), r.text
        assert time.monotonic() < deadline, f"job {job_id} not ended after 150s"
        await asyncio.sleep(0.2)


async def completed_count(db: asyncpg.Connection) -> int:
    return int(
        await db.fetchval("SELECT count(DISTINCT job_id) FROM job_events WHERE kind = 'completed'")
    )


async def events_of(db: asyncpg.Connection, job_ids: list[str]) -> dict[str, list[str]]:
    rows = await db.fetch(
        "SELECT job_id::text, kind FROM job_events WHERE job_id = ANY($1::uuid[]) ORDER BY seq",
        job_ids,
    )
    out: dict[str, list[str]] = {j: [] for j in job_ids}
    for row in rows:
        out[row["job_id"]].append(row["kind"])
    return out
