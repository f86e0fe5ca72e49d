"""`make bench`: benchmarks (never part of `make test`). Results go to
tests/bench/results/<name>.json and a summary is printed for the README.

    python -m tests.bench.run [engine|control|events|all] [--runs N] [--baseline REV]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import nats

from services.devstack import infra, postgres
from tests.support import media
from tests.support.stack import Stack, start_stack

RESULTS = Path(__file__).parent / "results"
T = TypeVar("T")
LONG_TEXT = " ".join([media.SPEECH_TEXT] * 9)  # about five minutes of speech


def write(name: str, data: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    data["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    data["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))


def median_of(runs: int, fn: Callable[[], float]) -> tuple[float, list[float]]:
    samples = [fn() for _ in range(runs)]
    return statistics.median(samples), samples


class Infra:
    def __init__(self, root: Path) -> None:
        self.nats = infra.start_nats(root / "nats" / "js")
        self.pg = postgres.start_postgres(root / "pg" / "data", durable=True)
        self.s3 = infra.start_s3(root / "s3" / "data")

    def s3_env(self) -> dict[str, str]:
        return {
            "S3_ENDPOINT": self.s3.url,
            "S3_ACCESS_KEY": infra.S3_ACCESS_KEY,
            "S3_SECRET_KEY": infra.S3_SECRET_KEY,
            "S3_BUCKET": "bench",
        }

    def stack(
        self,
        root: Path,
        names: tuple[str, ...] = ("ledger", "transcriber", "gateway"),
        env: dict[str, str] | None = None,
    ) -> Stack:
        return start_stack(
            self.nats.url, self.pg.url, {**self.s3_env(), **(env or {})}, root / "logs", names=names
        )

    def stop(self) -> None:
        for p in (self.s3, self.pg, self.nats):
            p.stop()


# --- 1. end to end vs the engine --------------------------------------------------------


def bench_engine(runs: int) -> None:
    from contracts import TranscribeOptions
    from services.transcriber.adapters.model_store import packaged_model
    from services.transcriber.adapters.whisper import WhisperEngine, choose_device, decode

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wav = media.speak(LONG_TEXT, root / "long.wav")
        clip = media.encode_audio(wav, root / "long.mp3", "libmp3lame")
        duration = len(media.read_pcm(wav)[0]) / 22050
        options = TranscribeOptions()
        model_dir = packaged_model(Path.home() / ".cache" / "jetscribe" / "models")

        # Direct: faster-whisper in one process, same model, options and file.
        engine = WhisperEngine(model_dir, choose_device("auto", "auto"))
        engine.load()

        def direct(opts: TranscribeOptions = options) -> float:
            started = time.perf_counter()
            audio = decode(clip)
            engine.transcribe(audio, opts, lambda _: None, lambda: False)
            return time.perf_counter() - started

        direct()  # warm-up
        direct_median, direct_samples = median_of(runs, direct)
        variants = {}
        for label, opts in {
            "beam5_sequential": TranscribeOptions(batch_size=1),
            "beam1_sequential": TranscribeOptions(batch_size=1, beam_size=1),
            "batched_4": TranscribeOptions(batch_size=4),
            "batched_8": TranscribeOptions(batch_size=8),
            "batched_16": TranscribeOptions(batch_size=16),
        }.items():
            started = time.perf_counter()
            result = engine.transcribe(decode(clip), opts, lambda _: None, lambda: False)
            seconds = time.perf_counter() - started
            variants[label] = {
                "seconds": round(seconds, 2),
                "x_realtime": round(duration / seconds, 1),
                "wer": round(media.word_error_rate(LONG_TEXT, result.text), 4),
            }

        # End to end: upload → submit → completed through the real services.
        deps = Infra(root / "infra")
        try:
            stack = deps.stack(root)
            client = httpx.Client(base_url=stack.gateway_url, timeout=600)

            def through_the_system() -> float:
                started = time.perf_counter()
                with clip.open("rb") as fh:
                    file_id = client.post("/v1/files", files={"file": ("long.mp3", fh)}).json()[
                        "id"
                    ]
                job = client.post(  # no result cache: the same file every run
                    "/v1/jobs", json={"type": "transcribe", "file_id": file_id, "cache": False}
                ).json()
                done = client.get(f"/v1/jobs/{job['id']}", params={"wait": 600}).json()
                assert done["status"] == "completed", done
                return time.perf_counter() - started

            through_the_system()  # warm-up
            e2e_median, e2e_samples = median_of(runs, through_the_system)
            stack.stop()
        finally:
            deps.stop()
    write(
        "transcribe_e2e_vs_engine",
        {
            "clip_seconds": round(duration, 1),
            "runs": runs,
            "options": options.model_dump(),
            "direct_median_s": round(direct_median, 2),
            "direct_samples": direct_samples,
            "e2e_median_s": round(e2e_median, 2),
            "e2e_samples": e2e_samples,
            "ratio": round(e2e_median / direct_median, 3),
            "target_ratio": 1.05,
            "engine_variants": variants,
        },
    )


# --- 2. control plane: submissions per second -------------------------------------------


async def _submit_load(url: str, file_id: str, total: int, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(total):
            queue.put_nowait(i)

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                r = await client.post("/v1/jobs", json={"type": "transcribe", "file_id": file_id})
                latencies.append(time.perf_counter() - started)
                if r.status_code != 202:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "submissions": total,
        "concurrency": concurrency,
        "errors": errors,
        "per_second": round(total / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
    }


def _wrk_load(url: str, file_id: str, seconds: int, concurrency: int, tmp: Path) -> dict[str, Any]:
    """Drive POST /v1/jobs with wrk (a C client: the load generator must not be the limit)."""
    script = tmp / "submit.lua"
    body = json.dumps({"type": "transcribe", "file_id": file_id})
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = '{body}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"{url}/v1/jobs",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "client": "wrk",
        "seconds": seconds,
        "submissions": total,
        "concurrency": concurrency,
        "errors": int(errors.group(1)) if errors else 0,
        "per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
    }


def _control_once(ledger_path: Path | None, total: int, concurrency: int) -> dict[str, Any]:
    """One load run against a fresh stack; `ledger_path`: the ledger from that source tree."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        deps = Infra(root / "infra")
        try:
            # No transcriber: commands stay on JetStream so we can count them.
            stack = deps.stack(root, names=("ledger", "gateway"))
            if ledger_path is not None:
                stack["ledger"].stop()
                stack["ledger"].cwd = ledger_path
                stack["ledger"].start()
                stack["ledger"].wait_ready()
            wav = media.speak("bench", root / "b.wav")
            with wav.open("rb") as fh:
                file_id = httpx.post(
                    f"{stack.gateway_url}/v1/files", files={"file": ("b.wav", fh)}
                ).json()["id"]
            asyncio.run(_submit_load(stack.gateway_url, file_id, 300, concurrency))  # warm-up
            if shutil.which("wrk"):
                result = _wrk_load(stack.gateway_url, file_id, 10, concurrency, root)
            else:  # `apt-get install wrk` for numbers not bounded by the Python client
                result = asyncio.run(_submit_load(stack.gateway_url, file_id, total, concurrency))
                result["client"] = "httpx"

            async def commands_on_jetstream() -> int:
                nc = await nats.connect(deps.nats.url)
                try:
                    info = await nc.jetstream().stream_info("JOBS", subjects_filter="jobs.run.>")
                    return int(info.state.messages)
                finally:
                    await nc.close()

            time.sleep(2)
            # Every accepted submission left exactly one command on JetStream.
            result["commands_on_jetstream"] = asyncio.run(commands_on_jetstream()) - 300
            stack.stop()
        finally:
            deps.stop()
    return result


def bench_control(
    total: int = 3000, concurrency: int = 16, runs: int = 1, baseline: str | None = None
) -> None:
    """Submissions per second; with `baseline` (a git revision) the same runs against
    that revision's ledger, interleaved, and the ratio."""
    now, then = _interleaved(runs, baseline, lambda tree: _control_once(tree, total, concurrency))

    def median_run(results: list[dict[str, Any]]) -> dict[str, Any]:
        ordered = sorted(results, key=lambda r: float(r["per_second"]))
        return {
            **ordered[len(ordered) // 2],
            "per_second_samples": [r["per_second"] for r in results],
        }

    result = median_run(now)
    if then:
        result["baseline"] = {"revision": baseline, **median_run(then)}
        result["ratio"] = round(result["per_second"] / result["baseline"]["per_second"], 3)
    result.update(target_per_second=1000, target_p99_ms=25)
    write("control_plane_submissions", result)


# --- 3. ledger event ingestion ----------------------------------------------------------


def _ingestion_once(ledger_path: Path | None, total: int, jobs: int) -> float:
    """Seconds from a ledger becoming ready to `total` queued `JobProgressed` (round robin
    over `jobs` jobs) stored and folded; `ledger_path`: run the ledger from that source
    tree instead of this one (a baseline)."""
    from contracts import JobProgressed, streams

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        deps = Infra(root / "infra")
        try:
            stack = deps.stack(root, names=("ledger", "gateway"))
            wav = media.speak("bench", root / "b.wav")
            client = httpx.Client(base_url=stack.gateway_url, timeout=30)
            with wav.open("rb") as fh:
                file_id = client.post("/v1/files", files={"file": ("b.wav", fh)}).json()["id"]
            job_ids = [
                client.post("/v1/jobs", json={"type": "transcribe", "file_id": file_id}).json()[
                    "id"
                ]
                for _ in range(jobs)
            ]
            stack["ledger"].stop()

            async def publish() -> None:
                nc = await nats.connect(deps.nats.url)
                js = nc.jetstream()
                per_job = total // jobs
                pending = []
                for step in range(per_job):
                    for job_id in job_ids:
                        ev = JobProgressed(job_id=uuid.UUID(job_id), progress=(step + 1) / per_job)
                        pending.append(
                            js.publish(f"jobs.events.{job_id}", ev.model_dump_json().encode())
                        )
                        if len(pending) >= 2000:
                            await asyncio.gather(*pending)
                            pending = []
                await asyncio.gather(*pending)
                await nc.close()

            asyncio.run(publish())

            async def wait_drained() -> float:
                nc = await nats.connect(deps.nats.url)
                js = nc.jetstream()
                started = time.perf_counter()
                while True:
                    info = await js.consumer_info(
                        streams.EVENTS_STREAM, streams.LEDGER_EVENTS_CONSUMER
                    )
                    if info.num_pending == 0 and info.num_ack_pending == 0:
                        await nc.close()
                        return time.perf_counter() - started
                    await asyncio.sleep(0.05)

            stack["ledger"].cwd = ledger_path  # `python -m` imports from there first
            stack["ledger"].start()
            stack["ledger"].wait_ready()
            elapsed = asyncio.run(wait_drained())
            stack.stop()
        finally:
            deps.stop()
    return elapsed


def _source_tree(rev: str, into: Path) -> Path:
    """The services and contracts of git revision `rev`, unpacked under `into`."""
    into.mkdir(parents=True)
    tar = subprocess.run(
        ["git", "archive", "--format=tar", rev, "services", "contracts"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=tar, check=True)
    return into


def _interleaved(
    runs: int, baseline: str | None, once: Callable[[Path | None], T]
) -> tuple[list[T], list[T]]:
    """`once` run `runs` times on this tree and, with `baseline`, on that revision's
    ledger after each: (this tree's results, the baseline's)."""
    now: list[T] = []
    then: list[T] = []
    with tempfile.TemporaryDirectory() as tmp:
        before = _source_tree(baseline, Path(tmp) / "baseline") if baseline else None
        for _ in range(runs):
            now.append(once(None))
            if before is not None:
                then.append(once(before))
    return now, then


def bench_events(
    total: int = 50_000, jobs: int = 500, runs: int = 3, baseline: str | None = None
) -> None:
    """Ledger event ingestion; with `baseline` (a git revision) the same runs against
    that revision's ledger, interleaved, and the ratio."""
    now_s, then_s = _interleaved(
        runs, baseline, lambda tree: round(_ingestion_once(tree, total, jobs), 2)
    )
    result: dict[str, Any] = {
        "events": total,
        "jobs": jobs,
        "kind": "JobProgressed, round robin over the jobs (the bulk of real traffic)",
        "runs": runs,
        "seconds_samples": now_s,
        "seconds": statistics.median(now_s),
        "per_second": round(total / statistics.median(now_s), 1),
        "target_per_second": 20000,
    }
    if then_s:
        result["baseline"] = {
            "revision": baseline,
            "seconds_samples": then_s,
            "per_second": round(total / statistics.median(then_s), 1),
        }
        result["speedup"] = round(statistics.median(then_s) / statistics.median(now_s), 2)
    write("ledger_event_ingestion", result)


# --- 4. convert job end to end vs the raw ffmpeg command -------------------------------


def bench_convert(runs: int) -> None:
    from contracts import ConvertOptions
    from services.converter.adapters.ffmpeg import build_command, ffmpeg_binary

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wav = media.speak(" ".join([media.SPEECH_TEXT] * 2), root / "speech.wav")
        video = media.encode_video(
            wav, root / "talk.mkv", "libx264", "aac", fps=25, size=(1280, 720)
        )
        options = ConvertOptions(preset="mp4")
        argv = build_command(ffmpeg_binary(), str(video), str(root / "direct.mp4"), options, True)

        def direct() -> float:
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            return time.perf_counter() - started

        direct()  # warm-up (page cache)
        direct_median, direct_samples = median_of(runs, direct)

        deps = Infra(root / "infra")
        try:
            stack = deps.stack(root, names=("ledger", "converter", "gateway"))
            client = httpx.Client(base_url=stack.gateway_url, timeout=600)
            with video.open("rb") as fh:
                file_id = client.post("/v1/files", files={"file": ("talk.mkv", fh)}).json()["id"]

            def job() -> float:
                started = time.perf_counter()
                body = {"type": "convert", "file_id": file_id, "options": {"preset": "mp4"}}
                created = client.post("/v1/jobs", json=body).json()
                done = client.get(f"/v1/jobs/{created['id']}", params={"wait": 600}).json()
                assert done["status"] == "completed", done
                return time.perf_counter() - started

            job()  # warm-up
            e2e_median, e2e_samples = median_of(runs, job)
            stack.stop()
        finally:
            deps.stop()
    write(
        "convert_e2e_vs_ffmpeg",
        {
            "input": "1280x720 H.264 + AAC MKV, ~67 s",
            "preset": "mp4",
            "runs": runs,
            "measured": "submit -> completed (input already uploaded) vs the same ffmpeg argv",
            "direct_median_s": round(direct_median, 2),
            "direct_samples": direct_samples,
            "e2e_median_s": round(e2e_median, 2),
            "e2e_samples": e2e_samples,
            "ratio": round(e2e_median / direct_median, 3),
            "target_ratio": 1.05,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "which", nargs="?", default="all", choices=["engine", "control", "events", "convert", "all"]
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--baseline",
        help="control, events: also run the ledger of this git revision, interleaved, for a ratio",
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.which in ("engine", "all"):
        bench_engine(args.runs)
    if args.which in ("control", "all"):
        bench_control(runs=min(args.runs, 3), baseline=args.baseline)
    if args.which in ("events", "all"):
        bench_events(runs=min(args.runs, 3), baseline=args.baseline)
    if args.which in ("convert", "all"):
        bench_convert(args.runs)


if __name__ == "__main__":
    main()
