"""Worker replicas announce themselves in the replicas KV bucket; the gateway's queue view
counts them per job type and drops a replica that said goodbye."""

from __future__ import annotations

import json

from nats.aio.client import Client

from contracts import JobType, TypeQueue, streams, subjects
from services.common.jetstream import ensure_consumer, worker_consumer
from services.common.replica_beacon import ReplicaBeacon
from services.gateway.queue_view import queue_view, worker_pools


async def test_replicas_are_counted_per_type_and_leave_when_stopped(nc: Client) -> None:
    js = nc.jetstream()
    assert await worker_pools(nc) == []  # no bucket yet: no pool, no error
    one = ReplicaBeacon(js, "transcriber", "host-a.1", [JobType.TRANSCRIBE], "whisper-base")
    two = ReplicaBeacon(
        js, "transcriber", "host-b", [JobType.TRANSCRIBE, JobType.GENERATE_SRT], "whisper-small"
    )
    await one.start()
    await two.start()
    try:
        await one.beat()  # the periodic loop's first round may not have run yet
        await two.beat()
        pools = {p.type: p for p in await worker_pools(nc)}
        assert set(pools) == {"transcribe", "generate_srt"}
        assert pools["transcribe"].replicas == 2 and pools["generate_srt"].replicas == 1
        assert pools["transcribe"].models == ["whisper-base", "whisper-small"]
        assert pools["transcribe"].services == ["transcriber"]
        assert len(pools["transcribe"].versions) == 1  # the installed release, both
        kv = await js.key_value(streams.REPLICAS_KV)
        entry = await kv.get(streams.replica_key(JobType.TRANSCRIBE, "host-a.1"))
        assert json.loads(entry.value or b"")["worker_id"] == "host-a.1"

        await one.stop()
        pools = {p.type: p for p in await worker_pools(nc)}
        assert pools["transcribe"].replicas == 1 and pools["transcribe"].models == ["whisper-small"]
    finally:
        await one.stop()
        await two.stop()
    assert await worker_pools(nc) == []


async def test_the_queue_view_joins_ledger_counts_with_the_consumers_backlog(
    nc: Client,
) -> None:
    js = nc.jetstream()
    await ensure_consumer(js, streams.JOBS_STREAM, worker_consumer(JobType.CONVERT))
    for n in range(3):
        await js.publish(subjects.run_subject(JobType.CONVERT), f"job {n}".encode())
    sub = await js.pull_subscribe_bind(
        streams.worker_consumer_name(JobType.CONVERT), stream=streams.JOBS_STREAM
    )
    [taken] = await sub.fetch(1, timeout=5)  # delivered, not yet acknowledged
    counts = [
        TypeQueue(type="transcribe", waiting=3, running=1, failed_recently=2, completed_recently=5)
    ]
    view = await queue_view(nc, counts, dead_letters=4)
    assert view.nats_figures and view.dead_letters == 4
    rows = {r.type: r for r in view.types}
    assert set(rows) == {"transcribe", "convert"}
    transcribe, convert = rows["transcribe"], rows["convert"]
    assert (transcribe.waiting, transcribe.running, transcribe.failed_recently) == (3, 1, 2)
    assert transcribe.stream_undelivered is None  # no transcribe worker consumer here
    assert (convert.waiting, convert.stream_undelivered, convert.stream_unacked) == (0, 2, 1)
    await taken.ack()
