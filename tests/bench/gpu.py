"""`make bench-gpu`: the transcriber engine against faster-whisper itself, on one GPU.

    python -m tests.bench.gpu [--clips N] [--runs R] [--batch-size B] [--audio FILE ...]

Same model (packaged "base", CUDA float16), same clips, same options; interleaved runs:
  direct     faster-whisper's BatchedInferencePipeline over a queue of N clips, one
             after another (what one process would do without jetscribe);
  jetscribe  WhisperEngine with N jobs at once from threads (its cross-job batcher).
Audio is decoded before timing; throughput = audio seconds / wall second (median run).
GPU busy = nvidia-smi `utilization.gpu` (share of time a kernel ran) every 200 ms while
a side runs. Targets: jetscribe >= 0.95x direct; mean GPU busy >= 90 % on jetscribe.
Without a CUDA device it writes {"skipped": reason} to results/transcribe_gpu.json, exit 0.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.util
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from tests.bench.run import write
from tests.support import media

NAME = "transcribe_gpu"
SAMPLE_RATE = 16000
TARGET_RATIO = 0.95
TARGET_BUSY_PCT = 90.0
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMI_QUERY = ["--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"]


def skip_reason() -> str | None:
    try:
        import ctranslate2
    except ImportError as exc:
        return f"ctranslate2 cannot be imported ({exc})"
    reasons = []
    if ctranslate2.get_cuda_device_count() == 0:
        reasons.append("ctranslate2 sees no CUDA device")
    if shutil.which("nvidia-smi") is None:
        reasons.append("no nvidia-smi on PATH")
    return "; ".join(reasons) or None


def preload_cublas() -> None:
    """ctranslate2 dlopens libcublas.so.12; the nvidia-cublas-cu12 wheel puts it where
    the loader does not look (faster-whisper's README: LD_LIBRARY_PATH). Load it first."""
    spec = importlib.util.find_spec("nvidia")
    for base in (spec.submodule_search_locations or []) if spec else []:
        libs = sorted(
            Path(base).glob("cublas/lib/libcublas*.so*"), key=lambda p: "Lt" not in p.name
        )
        for lib in libs:  # libcublasLt first: libcublas needs it
            with contextlib.suppress(OSError):
                ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)


def speech_files(tmp: Path, n: int, repeat: int, given: list[Path]) -> tuple[list[Path], str, str]:
    """N clips, their origin, and the reference text ("" when unknown)."""
    if given:
        return [given[i % len(given)] for i in range(n)], "given files", ""
    if media.espeak_available():
        text = " ".join([media.SPEECH_TEXT] * repeat)
        speeds = [130 + 10 * (i % 5) for i in range(n)]  # five lengths, so clips differ
        made = {s: media.speak(text, tmp / f"speech{s}.wav", speed=s) for s in set(speeds)}
        return [made[s] for s in speeds], f"espeak-ng, SPEECH_TEXT x{repeat}, 130-170 wpm", text
    found = sorted(p for ext in ("wav", "mp3", "flac") for p in FIXTURES.rglob(f"*.{ext}"))
    return [found[i % len(found)] for i in range(n)] if found else [], "tests/fixtures", ""


class GpuSampler:
    """`nvidia-smi -lms 200` in a subprocess for the duration of a `with` block."""

    def __init__(self) -> None:
        self.busy: list[float] = []
        self.mem_mib: list[float] = []
        self._first = threading.Event()
        cmd = ["nvidia-smi", "-i", "0", *SMI_QUERY, "-lms", "200"]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            with contextlib.suppress(ValueError):
                util, mem = (float(v) for v in line.split(","))
                if self._first.is_set():  # the first sample is of the time before the work
                    self.busy.append(util)
                    self.mem_mib.append(mem)
                self._first.set()

    def __enter__(self) -> GpuSampler:
        self._reader.start()
        self._first.wait(5)  # nvidia-smi takes a moment: sample the work, not its start-up
        return self

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.wait(5)
        self._reader.join(5)


def gpu_name() -> str:
    query = ["nvidia-smi", "-i", "0", "--query-gpu=name,driver_version,memory.total"]
    return subprocess.run([*query, "--format=csv,noheader"], capture_output=True, text=True).stdout


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from faster_whisper import BatchedInferencePipeline, WhisperModel
    from faster_whisper.audio import decode_audio

    from contracts import TranscribeOptions
    from services.transcriber.adapters.model_store import resolve_model
    from services.transcriber.settings import default_cache_dir

    with tempfile.TemporaryDirectory() as tmp:
        paths, origin, reference = speech_files(Path(tmp), args.clips, args.repeat, args.audio)
        if not paths:
            sys.exit("no speech audio: espeak-ng is missing and tests/fixtures has none (--audio)")
        clips = [decode_audio(str(p), sampling_rate=SAMPLE_RATE) for p in paths]
    audio_s = sum(c.shape[0] for c in clips) / SAMPLE_RATE
    options = TranscribeOptions(batch_size=args.batch_size)
    model_dir = resolve_model("base", default_cache_dir())
    preload_cublas()
    model = WhisperModel(str(model_dir), device="cuda", compute_type="float16")
    pipeline = BatchedInferencePipeline(model)
    # The documented entry point only: the engine's insides are another module's business.
    from services.transcriber.adapters.whisper import WhisperEngine, choose_device

    engine = WhisperEngine(model_dir, choose_device("cuda", "float16"))
    engine.load()

    def direct() -> list[str]:
        texts = []
        for audio in clips:  # a queue of clips, one after another, same options
            segments, _ = pipeline.transcribe(
                audio, **options.model_dump(exclude={"include_tokens"})
            )
            texts.append(" ".join(s.text.strip() for s in segments))  # decodes as it iterates
        return texts

    def jetscribe() -> list[str]:
        def job(audio: np.ndarray) -> str:
            result = engine.transcribe(
                audio, options, on_progress=lambda f: None, cancelled=lambda: False
            )
            return result.text

        with ThreadPoolExecutor(max_workers=len(clips)) as pool:  # N jobs at once
            return list(pool.map(job, clips))

    sides = {"direct": direct, "jetscribe": jetscribe}
    try:
        for fn in sides.values():  # warm-up: CUDA context, cuBLAS handles, allocator
            fn()
    except RuntimeError as exc:  # cuBLAS is loaded at the first matmul, not at load
        sys.exit(f"CUDA inference failed: {exc} (no cuBLAS 12? pip install nvidia-cublas-cu12)")
    stats: dict[str, dict[str, list[float]]] = {
        k: {"s": [], "busy": [], "mem": [], "wer": []} for k in sides
    }
    for run in range(args.runs):
        for side in list(sides) if run % 2 == 0 else list(reversed(sides)):  # interleaved
            st = stats[side]
            with GpuSampler() as sampler:
                started = time.perf_counter()
                texts = sides[side]()
                st["s"].append(time.perf_counter() - started)
            st["busy"] += sampler.busy
            st["mem"] += sampler.mem_mib
            st["wer"] += [media.word_error_rate(reference, t) for t in texts if reference]
            print(f"run {run + 1}/{args.runs} {side}: {st['s'][-1]:.2f} s", flush=True)

    report: dict[str, Any] = {}
    for side, st in stats.items():
        median_s, busy = statistics.median(st["s"]), st["busy"]
        report[side] = {
            "median_s": round(median_s, 3),
            "samples_s": [round(x, 3) for x in st["s"]],
            "audio_s_per_s": round(audio_s / median_s, 1),
            "gpu_busy_mean_pct": round(statistics.fmean(busy), 1) if busy else None,
            "gpu_busy_p50_pct": statistics.median(busy) if busy else None,
            "gpu_samples": len(busy),
            "gpu_mem_max_mib": max(st["mem"], default=None),
            "wer_median": round(statistics.median(st["wer"]), 4) if st["wer"] else None,
        }
    ratio = round(report["direct"]["median_s"] / report["jetscribe"]["median_s"], 3)
    busy_mean = report["jetscribe"]["gpu_busy_mean_pct"]
    return {
        "gpu": gpu_name().strip(),
        "model": model_dir.name,
        "compute_type": "float16",
        "audio": origin,
        "clips": len(clips),
        "audio_s_per_run": round(audio_s, 1),
        "runs": args.runs,
        "batch_size": args.batch_size,
        "options": options.model_dump(),
        "measured": "wall time of N clips, decoded audio in memory, after one warm-up each",
        **report,
        "ratio_jetscribe_over_direct": ratio,  # of throughputs
        "targets": {
            "ratio": {"target": TARGET_RATIO, "value": ratio, "met": ratio >= TARGET_RATIO},
            "gpu_busy_mean_pct": {
                "target": TARGET_BUSY_PCT,
                "value": busy_mean,
                "met": busy_mean is not None and busy_mean >= TARGET_BUSY_PCT,
            },
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--clips", type=int, default=16, help="jobs per run (N)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per side")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2, help="SPEECH_TEXT (~30 s) per clip")
    parser.add_argument("--audio", type=Path, nargs="*", default=[], help="clips to use instead")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    reason = skip_reason()
    if reason:
        print(f"bench-gpu skipped: {reason} (needs one NVIDIA GPU)")
        with contextlib.redirect_stdout(io.StringIO()):  # write() echoes the JSON
            write(NAME, {"skipped": reason})
        return
    write(NAME, bench(args))


if __name__ == "__main__":
    main()
