"""Many uploads in progress at once, more than the gateway has cores: each streams into S3
in its own thread, and none of them, nor anything else the gateway does, waits on the
others (with the upload threads in asyncio's default pool, cores + 4, six slow uploads
on 2 cores used to hang the gateway for good)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from tests.support.stack import Stack

# more than asyncio's default pool has threads (cores + 4), on any machine
UPLOADS = min(60, (os.cpu_count() or 1) + 8)
CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def stack_names() -> tuple[str, ...]:
    return ("ledger", "gateway")


def body(
    name: str, data: bytes, go: asyncio.Event, arrived: Callable[[], None]
) -> AsyncIterator[bytes]:
    async def parts() -> AsyncIterator[bytes]:
        yield (
            f'--b\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + data[:CHUNK]
        arrived()
        await go.wait()  # every upload holds its S3 thread, waiting for more bytes
        for i in range(CHUNK, len(data), CHUNK):
            yield data[i : i + CHUNK]
        yield b"\r\n--b--\r\n"

    return parts()


async def test_uploads_in_progress_at_once_neither_block_each_other_nor_the_gateway(
    stack: Stack,
) -> None:
    go, all_in = asyncio.Event(), asyncio.Event()
    started: list[str] = []

    def arrived() -> None:
        started.append("one")
        if len(started) == UPLOADS:
            all_in.set()

    payloads = {f"f{i}.bin": os.urandom(CHUNK * 8 + i) for i in range(UPLOADS)}
    limits = httpx.Limits(max_connections=UPLOADS + 2)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60, limits=limits) as http:

        async def upload(name: str, data: bytes) -> httpx.Response:
            return await http.post(
                "/v1/files",
                content=body(name, data, go, arrived),
                headers={"content-type": "multipart/form-data; boundary=b"},
            )

        uploads = [asyncio.create_task(upload(n, d)) for n, d in payloads.items()]
        await asyncio.wait_for(all_in.wait(), 30)
        await asyncio.sleep(1.0)  # the gateway has started every S3 upload by now
        ready = await asyncio.wait_for(http.get("/readyz"), 10)
        assert ready.status_code == 200, ready.text  # its S3 check found a thread
        go.set()
        done = await asyncio.wait_for(asyncio.gather(*uploads), 60)
        assert [r.status_code for r in done] == [201] * UPLOADS, [r.text for r in done]
        for r, (name, data) in zip(done, payloads.items(), strict=True):
            assert r.json()["filename"] == name and r.json()["size"] == len(data)
