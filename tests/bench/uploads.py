"""Gateway memory while streaming one large upload (issue 13's target: RSS < 200 MB for
a 2-GB upload). The body is generated on the fly (nothing that big is kept on disk but
the S3 server's copy); the gateway's RSS is sampled from /proc every 50 ms.

    python -m tests.bench.uploads [--gib 2]        (part of `make bench`)

Writes tests/bench/results/gateway_upload_rss.json.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.bench.run import Infra, write

BLOCK = os.urandom(1 << 20)  # 1 MiB, repeated


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def body(boundary: str, size: int) -> tuple[Iterator[bytes], int]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        yield head
        left = size
        while left > 0:
            piece = BLOCK[: min(left, len(BLOCK))]
            left -= len(piece)
            yield piece
        yield tail

    return chunks(), len(head) + size + len(tail)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=2.0)
    size = int(parser.parse_args().gib * (1 << 30))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        infra = Infra(root)
        try:
            stack = infra.stack(
                root, names=("ledger", "gateway"), env={"MAX_UPLOAD_BYTES": str(size + (1 << 20))}
            )
            try:
                pid = stack["gateway"].popen.pid  # type: ignore[union-attr]
                idle = rss_mb(pid)
                samples: list[float] = []
                done = threading.Event()

                def sample() -> None:
                    while not done.is_set():
                        samples.append(rss_mb(pid))
                        time.sleep(0.05)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                boundary = uuid.uuid4().hex
                chunks, length = body(boundary, size)
                started = time.perf_counter()
                r = httpx.post(
                    f"{stack.gateway_url}/v1/files",
                    content=chunks,
                    headers={
                        "content-type": f"multipart/form-data; boundary={boundary}",
                        "content-length": str(length),
                    },
                    timeout=1800,
                )
                seconds = time.perf_counter() - started
                done.set()
                sampler.join()
                stored = r.json().get("size") if r.status_code == 201 else None
            finally:
                stack.stop()
        finally:
            infra.stop()
    peak = max(samples)
    write(
        "gateway_upload_rss",
        {
            "upload_bytes": size,
            "status": r.status_code,
            "stored_size": stored,
            "seconds": round(seconds, 1),
            "mb_per_s": round(size / seconds / 1e6, 1),
            "gateway_rss_idle_mb": round(idle, 1),
            "gateway_rss_peak_mb": round(peak, 1),
            "target_peak_mb": 200,
            "met": peak < 200,
        },
    )


if __name__ == "__main__":
    main()
