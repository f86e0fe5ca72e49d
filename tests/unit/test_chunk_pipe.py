"""The pipe between an upload's request body (async) and the S3 SDK (a thread)."""

from __future__ import annotations

import asyncio

import pytest

from services.common.adapters.s3 import ChunkPipe


async def test_bytes_come_out_as_fed_and_feed_waits_for_room() -> None:
    pipe = ChunkPipe(max_chunks=2)
    await pipe.feed(b"ab")
    await pipe.feed(b"cd")
    third = asyncio.ensure_future(pipe.feed(b"ef"))
    await asyncio.sleep(0.05)
    assert not third.done()  # two unread chunks: no room
    assert await asyncio.to_thread(pipe.read, 3) == b"abc"  # the reader makes room
    await asyncio.wait_for(third, 5)
    pipe.close()
    assert await asyncio.to_thread(pipe.read) == b"def"


async def test_a_feed_waiting_for_room_fails_once_the_reader_is_gone() -> None:
    pipe = ChunkPipe(max_chunks=1)
    await pipe.feed(b"a")
    asyncio.get_running_loop().call_later(0.05, pipe.reader_gone)
    with pytest.raises(BrokenPipeError):
        await asyncio.wait_for(pipe.feed(b"b"), 5)
    with pytest.raises(BrokenPipeError):
        await pipe.feed(b"c")


async def test_an_error_closes_the_pipe_for_the_reader() -> None:
    pipe = ChunkPipe()
    await pipe.feed(b"x")
    pipe.close(RuntimeError("client went away"))
    with pytest.raises(RuntimeError):
        await asyncio.to_thread(pipe.read, 10)
