"""`make chaos`: run the fault rows and write the results table.

    python -m tests.chaos.run [--rows a,b,...] [--jobs N] [--drain-jobs N]
                              [--out tests/chaos/results.md] [--root DIR]

Rows (all by default): see ROWS below. The service logs of every row stay under --root
(a fresh temp dir by default; its path is printed).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from . import report, rows, rows_load, scenario
from .measure import RowResult
from .world import Lab

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

RowFn = Callable[[Lab, argparse.Namespace], RowResult]


def _fault_row(name: str) -> RowFn:
    return lambda lab, args: scenario.run(lab, rows.scenarios()[name], args.jobs)


ROWS: dict[str, RowFn] = {name: _fault_row(name) for name in rows.scenarios()}
ROWS["poison"] = lambda lab, args: rows_load.poison_row(lab, max(3, args.jobs // 3 * 2))
ROWS["long-80min-words"] = lambda lab, args: scenario.run(lab, rows_load.long_recording(), 1)
ROWS["drain-10k"] = lambda lab, args: rows_load.drain_row(lab, args.drain_jobs)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.chaos.run", description=__doc__)
    p.add_argument("--rows", default=",".join(ROWS), help="comma-separated; default: all")
    p.add_argument("--jobs", type=int, default=9, help="jobs in flight per fault row")
    p.add_argument("--drain-jobs", type=int, default=10_000, help="jobs of the drain row")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results.md")
    p.add_argument("--root", type=Path, default=None, help="scratch dir (kept)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    names = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in names if r not in ROWS]
    if unknown:
        print(f"unknown rows: {', '.join(unknown)}; known: {', '.join(ROWS)}", file=sys.stderr)
        return 2
    root = args.root or Path(tempfile.mkdtemp(prefix="jetscribe-chaos-"))
    lab = Lab.at(root)
    print(f"scratch and service logs: {root}", flush=True)
    command = "python -m tests.chaos.run " + shlex.join(sys.argv[1:] if argv is None else argv)
    results: list[RowResult] = []
    for name in names:
        t0 = time.monotonic()
        print(f"== {name} ...", flush=True)
        result = ROWS[name](lab, args)
        results.append(result)
        print(report.line(result), flush=True)
        print(f"   ({time.monotonic() - t0:.0f} s; logs {result.log_dir})", flush=True)
        report.write(args.out, results, command.strip())
    print(f"results: {args.out}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
