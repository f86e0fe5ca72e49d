"""Many short files at once: jetscribe (cross-job batches) against a one-process server.

    python -m tests.bench.batching [--clips 8] [--runs 3] [--peer http://host:9000]

Side by side, interleaved, medians of `--runs`:
- `jetscribe`: the clips submitted at once through the gateway of a real stack (NATS,
  PostgreSQL, S3, the transcriber on its defaults); time until every job completed,
  and until the first did; plus one clip alone, for the first-result target.
- `peer`: with `--peer`, a running whisper-asr-webservice (`POST /asr`), the clips sent
  at once as its users would; without it, faster-whisper called directly in this
  process, one clip after another (what such a server does with its requests).
Results: tests/bench/results/transcribe_many_short.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.bench.run import Infra, write
from tests.support import media


def clips(root: Path, count: int) -> dict[Path, str]:
    """About 30 s of speech each, at different speeds (so not one file eight times),
    with the text each one speaks."""
    words = media.SPEECH_TEXT.split()
    out = {}
    for i in range(count):
        text = " ".join(words[: 60 + 3 * i])
        wav = media.speak(text, root / f"c{i}.wav", speed=150 + 4 * i)
        out[media.encode_audio(wav, root / f"c{i}.mp3", "libmp3lame")] = text
    return out


def seconds_of(path: Path) -> float:
    from services.transcriber.adapters.whisper import decode

    return float(len(decode(path))) / 16000


def at_once(paths: list[Path], one: Callable[[Path], str]) -> dict[str, Any]:
    started = time.perf_counter()
    finished: list[float] = []
    texts: dict[Path, str] = {}

    def run(path: Path) -> None:
        texts[path] = one(path)
        finished.append(time.perf_counter() - started)

    with ThreadPoolExecutor(len(paths)) as pool:
        list(pool.map(run, paths))
    return {"all_s": max(finished), "first_s": min(finished), "texts": texts}


def through_jetscribe(url: str) -> Callable[[Path], str]:
    client = httpx.Client(base_url=url, timeout=900)

    def one(path: Path) -> str:
        with path.open("rb") as fh:
            file_id = client.post("/v1/files", files={"file": (path.name, fh)}).json()["id"]
        job = client.post(  # no result cache: every run transcribes
            "/v1/jobs", json={"type": "transcribe", "file_id": file_id, "cache": False}
        ).json()
        done = client.get(f"/v1/jobs/{job['id']}", params={"wait": 900}).json()
        assert done["status"] == "completed", done
        return str(done["result"]["text"])

    return one


def through_peer(url: str) -> Callable[[Path], str]:
    client = httpx.Client(base_url=url, timeout=900)

    def one(path: Path) -> str:
        with path.open("rb") as fh:
            r = client.post(
                "/asr",
                params={"task": "transcribe", "output": "json", "encode": "true"},
                files={"audio_file": (path.name, fh)},
            )
        r.raise_for_status()
        return str(r.json()["text"])

    return one


def peer_version(url: str) -> str:
    """What the peer says it is (FastAPI's OpenAPI document: title and version)."""
    try:
        info = httpx.get(f"{url}/openapi.json", timeout=10).json()["info"]
        return f"{info['title']} {info['version']}"
    except (httpx.HTTPError, KeyError, ValueError):
        return "unknown"


def direct_faster_whisper() -> Callable[[Path], str]:
    """One model, one clip at a time (a lock), batched decoding as jetscribe's default."""
    import threading

    from faster_whisper import BatchedInferencePipeline, WhisperModel

    from services.transcriber.adapters.model_store import packaged_model

    model = WhisperModel(
        str(packaged_model(Path.home() / ".cache" / "jetscribe" / "models")),
        device="cpu",
        compute_type="int8",
    )
    pipeline = BatchedInferencePipeline(model)
    lock = threading.Lock()

    def one(path: Path) -> str:
        with lock:
            segments, _ = pipeline.transcribe(str(path), batch_size=8, temperature=0.0)
            return " ".join(s.text.strip() for s in segments)

    return one


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer", default=None, help="whisper-asr-webservice base URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spoken = clips(root, args.clips)
        paths = list(spoken)
        audio_s = sum(seconds_of(p) for p in paths)
        deps = Infra(root / "infra")
        try:
            stack = deps.stack(root)
            ours = through_jetscribe(stack.gateway_url)
            peer = through_peer(args.peer) if args.peer else direct_faster_whisper()
            ours(paths[0]), peer(paths[0])  # warm-up
            samples: dict[str, list[dict[str, Any]]] = {"jetscribe": [], "peer": []}
            singles: list[float] = []
            for run in range(args.runs):  # interleaved, alternating who goes first
                order = [("jetscribe", ours), ("peer", peer)]
                for side, one in order if run % 2 == 0 else order[::-1]:
                    samples[side].append(at_once(paths, one))
                started = time.perf_counter()
                ours(paths[0])
                singles.append(time.perf_counter() - started)
            stack.stop()
        finally:
            deps.stop()
    figures: dict[str, Any] = {}
    for side, runs in samples.items():
        all_s = statistics.median(r["all_s"] for r in runs)
        figures[side] = {
            "all_done_median_s": round(all_s, 2),
            "first_result_median_s": round(statistics.median(r["first_s"] for r in runs), 2),
            "audio_s_per_s": round(audio_s / all_s, 2),
            "samples_all_s": [round(r["all_s"], 2) for r in runs],
            "samples_first_s": [round(r["first_s"], 2) for r in runs],
            "wer_median": round(
                statistics.median(
                    media.word_error_rate(spoken[p], t) for p, t in runs[-1]["texts"].items()
                ),
                4,
            ),
        }
    single = statistics.median(singles)
    throughput = figures["jetscribe"]["audio_s_per_s"] / figures["peer"]["audio_s_per_s"]
    first_vs_single = figures["jetscribe"]["first_result_median_s"] / single
    write(
        "transcribe_many_short",
        {
            "clips": args.clips,
            "audio_s": round(audio_s, 1),
            "runs": args.runs,
            "peer_is": (
                f"{peer_version(args.peer)} at {args.peer}"
                if args.peer
                else "faster-whisper called directly, one clip at a time"
            ),
            **figures,
            "single_job_median_s": round(single, 2),
            "single_job_samples_s": [round(t, 2) for t in singles],
            "throughput_ratio": round(throughput, 2),
            "target_throughput_ratio": 2.0,
            "throughput_met": throughput >= 2.0,
            "first_result_vs_single": round(first_vs_single, 2),
            "target_first_result_vs_single": 1.2,
            "first_result_met": first_vs_single <= 1.2,
        },
    )


if __name__ == "__main__":
    main()
