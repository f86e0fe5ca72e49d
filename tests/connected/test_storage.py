"""The S3 adapter against a real S3 endpoint (nanio locally, MinIO in Docker)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import httpx
import pytest

from services.common.adapters.s3 import ChunkPipe, ObjectStore
from services.common.errors import InputNotFound


async def test_a_stream_larger_than_one_part_is_uploaded_intact(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    data = os.urandom(19 * 1024 * 1024)  # three multipart parts of 8 MiB
    pipe = ChunkPipe()
    upload = asyncio.create_task(
        asyncio.to_thread(
            object_store.put_stream_sync, "files/big", pipe, "application/octet-stream", {}
        )
    )
    for i in range(0, len(data), 256 * 1024):
        await pipe.feed(data[i : i + 256 * 1024])
    pipe.close()
    await upload
    out = tmp_path / "back"
    assert await object_store.download("files/big", out) == len(data)
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(data).digest()


async def test_an_aborted_stream_leaves_no_object(object_store: ObjectStore) -> None:
    pipe = ChunkPipe()
    upload = asyncio.create_task(
        asyncio.to_thread(object_store.put_stream_sync, "files/aborted", pipe, "audio/wav", {})
    )
    await pipe.feed(b"x" * 1024)
    pipe.close(RuntimeError("client went away"))
    with pytest.raises(RuntimeError):
        await upload
    assert not await object_store.exists("files/aborted")


async def test_presigned_urls_serve_the_bytes(object_store: ObjectStore) -> None:
    await object_store.put_bytes("jobs/j/out.json", b'{"ok": true}', "application/json")
    url = object_store.presign_get("jobs/j/out.json", "out.json")
    async with httpx.AsyncClient() as client:
        r = await client.get(url)
    assert r.status_code == 200 and r.content == b'{"ok": true}'


async def test_a_missing_object_is_a_permanent_not_found(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    with pytest.raises(InputNotFound):
        await object_store.download("files/nope", tmp_path / "x")
