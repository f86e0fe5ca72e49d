"""Cost as the work grows, and scale-out:

    python -m tests.bench.scale [drain|replicas|all] [--sizes 100,1000,10000] [--clips 12]

- `drain`: for each size, a fresh stack (ledger, gateway, srt-fixer on a local instant
  OpenAI-compatible server: `fix_srt` is the cheapest job that still goes the whole way:
  S3 in, a worker, S3 out, events folded). The jobs are queued while the worker is
  stopped, then it starts; the drain is timed from the first `started` to the last
  `completed` by the ledger's own event times. Per-job cost at each size and the slopes
  between sizes (marginal seconds per extra job); exact counts checked at the end.
  Results: tests/bench/results/drain_backlog.json.
- `replicas`: the same queue of short speech clips through 1, 2 and 3 transcriber
  replicas (CPU, defaults) in one run; throughput and the scaling factor against one.
  Results: tests/bench/results/transcriber_replicas.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.bench.batching import clips, seconds_of
from tests.bench.run import Infra, write
from tests.support.drain import commands_left, ledger_counts, submit_many, wait_drained
from tests.support.fake_llm import FakeLlm

SRT = (
    "1\n00:00:01,000 --> 00:00:02,000\nteh first cue\n\n"
    "2\n00:00:03,000 --> 00:00:04,000\nand teh second\n"
)


def drain_once(size: int, llm: FakeLlm) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        deps = Infra(root / "infra")
        try:
            env = {"LLM_API_BASE": llm.api_base, "LLM_MODEL": "openai/fake", "LLM_API_KEY": "k"}
            stack = deps.stack(root, names=("ledger", "srt-fixer", "gateway"), env=env)
            (root / "cues.srt").write_text(SRT)
            with (root / "cues.srt").open("rb") as fh:
                file_id = httpx.post(
                    f"{stack.gateway_url}/v1/files",
                    files={"file": ("cues.srt", fh, "application/x-subrip")},
                ).json()["id"]
            stack["srt-fixer"].stop()
            body = {"type": "fix_srt", "file_id": file_id, "cache": False}
            started = time.perf_counter()
            ids = asyncio.run(submit_many(stack.gateway_url, body, size))
            submit_s = time.perf_counter() - started
            while asyncio.run(commands_left(stack.nats_url, "fix_srt"))[0] < size:
                time.sleep(0.2)
            stack["srt-fixer"].start()
            stack["srt-fixer"].wait_ready()
            asyncio.run(wait_drained(stack.database_url, ids, timeout_s=3600))
            counts = asyncio.run(ledger_counts(stack.database_url, ids))
            left = asyncio.run(commands_left(stack.nats_url, "fix_srt"))
            stack.stop()
        finally:
            deps.stop()
    exact = (
        counts.by_status == {"completed": size}
        and counts.events.get("started") == counts.events.get("completed") == size
        and counts.jobs_with.get("completed") == size
        and left == (0, 0)
    )
    return {
        "jobs": size,
        "submit_per_s": round(size / submit_s, 1),
        "drain_s": round(counts.drain_s, 2),
        "per_job_ms": round(1000 * counts.drain_s / size, 2),
        "by_status": counts.by_status,
        "events": counts.events,
        "commands_left": list(left),
        "exact_counts": exact,
    }


def bench_drain(sizes: list[int]) -> None:
    llm = FakeLlm()
    server = llm.serve()
    try:
        rows = [drain_once(size, llm) for size in sizes]
    finally:
        server.should_exit = True
    slopes = [
        {
            "from": a["jobs"],
            "to": b["jobs"],
            # marginal cost of the extra jobs: flat when it equals the per-job cost
            "ms_per_extra_job": round(
                1000 * (b["drain_s"] - a["drain_s"]) / (b["jobs"] - a["jobs"]), 2
            ),
        }
        for a, b in itertools.pairwise(rows)
    ]
    write(
        "drain_backlog",
        {
            "job": "fix_srt, 2 cues, local instant LLM; srt-fixer defaults (8 jobs at once)",
            "measured": "first started -> last completed, ledger event times",
            "sizes": rows,
            "slopes": slopes,
            "per_job_ratio_largest_vs_smallest": round(
                rows[-1]["per_job_ms"] / rows[0]["per_job_ms"], 3
            ),
            "target": "per-job cost flat (ratio ~1), exact counts",
        },
    )


def bench_replicas(count: int, most: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = list(clips(root, count))
        audio_s = sum(seconds_of(p) for p in paths)
        deps = Infra(root / "infra")
        rows = []
        try:
            stack = deps.stack(root, names=("ledger", "transcriber", "gateway"))
            client = httpx.Client(base_url=stack.gateway_url, timeout=900)
            file_ids = []
            for path in paths:
                with path.open("rb") as fh:
                    file_ids.append(
                        client.post("/v1/files", files={"file": (path.name, fh)}).json()["id"]
                    )
            # warm-up (first decode after the model loads), not timed
            warm = {"type": "transcribe", "file_id": file_ids[0], "cache": False}
            job = client.post("/v1/jobs", json=warm).json()["id"]
            client.get(f"/v1/jobs/{job}", params={"wait": 900})
            for replicas in range(1, most + 1):
                if replicas > 1:
                    stack.add_replica("transcriber", f"transcriber-{replicas}")
                started = time.perf_counter()
                jobs = [
                    client.post(
                        "/v1/jobs", json={"type": "transcribe", "file_id": f, "cache": False}
                    ).json()["id"]
                    for f in file_ids
                ]
                for job in jobs:
                    done = client.get(f"/v1/jobs/{job}", params={"wait": 900}).json()
                    assert done["status"] == "completed", done
                elapsed = time.perf_counter() - started
                rows.append(
                    {
                        "replicas": replicas,
                        "seconds": round(elapsed, 2),
                        "audio_s_per_s": round(audio_s / elapsed, 2),
                    }
                )
                print(rows[-1], flush=True)
            stack.stop()
        finally:
            deps.stop()
    for row in rows:
        row["scaling_vs_one"] = round(row["audio_s_per_s"] / rows[0]["audio_s_per_s"], 3)
    write(
        "transcriber_replicas",
        {
            "clips": count,
            "audio_s": round(audio_s, 1),
            "cpus": os.cpu_count(),
            "measured": "all clips submitted at once -> every job completed; defaults",
            "rows": rows,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("which", nargs="?", default="all", choices=["drain", "replicas", "all"])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--clips", type=int, default=12)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.which in ("drain", "all"):
        bench_drain([int(s) for s in args.sizes.split(",")])
    if args.which in ("replicas", "all"):
        bench_replicas(args.clips)


if __name__ == "__main__":
    main()
