"""Graceful shutdown of a worker with real processes: SIGTERM stops pulling, the job in
hand finishes within the grace period or goes back to the stream for another replica,
nothing half-done is published, and the process exits 0."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import asyncpg
import pytest

from tests.support import media
from tests.support.client import Api
from tests.support.stack import Service, Stack
from tests.support.waiting import wait_until

LONG_TEXT = " ".join([media.SPEECH_TEXT] * 6)  # about three minutes of speech


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    # ACK_WAIT_S long on purpose: a job handed back must not wait for it to run again.
    return {"SHUTDOWN_GRACE_S": "1", "ACK_WAIT_S": "120", "HEARTBEAT_S": "2"}


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "transcriber", "gateway")


@pytest.fixture(scope="module")
def api(stack: Stack) -> Api:
    return Api(stack.gateway_url, cache=False)


@pytest.fixture(scope="module")
def long_speech(media_dir: Path) -> Path:
    wav = media.speak(LONG_TEXT, media_dir / "three-minutes.wav")
    return media.encode_audio(wav, media_dir / "three-minutes.mp3", "libmp3lame")


def running_on(replicas: list[Service], job_id: str, timeout: float = 60) -> Service:
    def taken() -> Service | None:
        for r in replicas:
            if f'"job_id": "{job_id}"' in r.log_path.read_text(errors="replace"):
                return r
        return None

    return wait_until(taken, timeout, "a replica taking the job", interval=0.2)


def started_events(database_url: str, job_id: str) -> list[tuple[str, int]]:
    async def query() -> list[tuple[str, int]]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT kind, attempt FROM job_events WHERE job_id = $1::uuid ORDER BY seq",
                job_id,
            )
        finally:
            await conn.close()
        return [(r["kind"], r["attempt"]) for r in rows]

    return asyncio.run(query())


def test_sigterm_mid_job_hands_it_to_another_replica_and_exits_0(
    api: Api, stack: Stack, long_speech: Path
) -> None:
    other = stack.add_replica("transcriber", "transcriber-2")
    try:
        job = api.submit(api.upload(long_speech)["id"], options={"language": "en"})
        replicas = [stack["transcriber"], other]
        busy = running_on(replicas, job["id"])
        idle = other if busy is stack["transcriber"] else stack["transcriber"]
        # Mid-job: in the busy replica's hands and recorded as started; from here the
        # transcription has tens of seconds to go. (Not `progress > 0`: three minutes fit
        # in one batch of the batched pipeline, so progress jumps from 0 to 1 at the end.)
        wait_until(lambda: api.get(job["id"])["status"] == "processing", 60, "the job running")

        # The worker stops the job after the 1-s grace, but a transcription notices that
        # only between batches of segments (here: at its end, tens of seconds on a loaded
        # machine), and the process exits after that: a generous wait for the exit.
        assert busy.stop(signal.SIGTERM, timeout=120) == 0, busy.tail()
        exited = time.monotonic()
        assert "job handed back at shutdown" in busy.tail(200)
        running_on([idle], job["id"], timeout=180)
        taken_after_exit = time.monotonic() - exited

        done = api.wait(job["id"], 300)
        assert done["status"] == "completed", done
        assert done["attempt"] == 2 and len(done["output_file_ids"]) == 1
        assert f'"job_id": "{job["id"]}"' in idle.log_path.read_text()
        events = started_events(stack.database_url, job["id"])
        assert [e for e in events if e[0] in ("started", "completed")] == [
            ("started", 1),
            ("started", 2),
            ("completed", 2),
        ]
        assert ("requeued", 2) in events
        # Picked up at once, not after ACK_WAIT_S (120 s): handed back (nak), the job goes
        # to the other replica before, or as, the busy one exits; left unacked it would
        # come back only ACK_WAIT_S after the busy one's last heartbeat. Half of
        # ACK_WAIT_S tells the two apart with room for a loaded machine.
        assert taken_after_exit < 60, taken_after_exit
    finally:
        other.stop()
        if stack["transcriber"].popen and stack["transcriber"].popen.poll() is not None:
            stack["transcriber"].start()
            stack["transcriber"].wait_ready()


def test_sigterm_lets_a_short_job_finish_within_the_grace_period(
    api: Api, stack: Stack, speech_mp3: Path
) -> None:
    worker = stack["transcriber"]
    worker.stop()
    worker.env["SHUTDOWN_GRACE_S"] = "60"
    worker.start()
    worker.wait_ready()
    job = api.submit(api.upload(speech_mp3)["id"], options={"beam_size": 1})
    running_on([worker], job["id"])
    assert worker.stop(signal.SIGTERM, timeout=90) == 0, worker.tail()
    assert "job completed" in worker.tail(), "it finished here, before exiting"
    done = api.wait(job["id"], 30)  # the ledger folds `completed` a moment after
    assert done["status"] == "completed" and done["attempt"] == 1, done
    worker.start()
    worker.wait_ready()
