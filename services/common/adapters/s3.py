"""S3 adapter over the minio SDK: the only module that touches object storage.

The SDK is synchronous; every call runs in a worker thread. Driver errors become
`StorageUnavailable` (transient) or `InputNotFound` (permanent) here, at the boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.error import S3Error

from ..errors import InputNotFound, StorageUnavailable
from ..settings import S3Settings

_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "NoSuchBucket", "ResourceNotFound"}
MIN_PART_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


def _client(endpoint: str, settings: S3Settings) -> Minio:
    url = urlsplit(endpoint)
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5.0, read=120.0),
        retries=False,  # one owner of retries: JetStream redelivery
        maxsize=16,
    )
    return Minio(
        url.netloc,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=url.scheme == "https",
        region=settings.s3_region,
        http_client=http,
    )


@contextmanager
def _translate(key: str) -> Iterator[None]:
    try:
        yield
    except S3Error as exc:
        if exc.code in _NOT_FOUND:
            raise InputNotFound(f"object {key!r} not found in storage") from exc
        raise StorageUnavailable(f"storage error on {key!r}: {exc.code}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise StorageUnavailable(f"storage unreachable: {type(exc).__name__}: {exc}") from exc


class ChunkPipe:
    """A file-like object fed from async code and read by the SDK in a thread.

    Lets an HTTP upload stream into a multipart S3 upload with bounded memory: `feed`
    waits (without a thread: the threads may all be reading pipes) while `max_chunks`
    chunks are unread.
    """

    def __init__(self, max_chunks: int = 8) -> None:
        self._queue: queue.SimpleQueue[bytes | BaseException | None] = queue.SimpleQueue()
        self._room = asyncio.Semaphore(max_chunks)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._buffer = bytearray()
        self._eof = False
        self._reader_gone = False

    async def feed(self, chunk: bytes) -> None:
        """Raises BrokenPipeError once the reader is gone (see `reader_gone`)."""
        self._loop = asyncio.get_running_loop()
        if not self._reader_gone:
            await self._room.acquire()
        if self._reader_gone:
            raise BrokenPipeError("the upload stopped reading")
        self._queue.put(chunk)

    def reader_gone(self) -> None:
        """The reading thread ended (an S3 error, say): a waiting `feed` raises. Call
        it from the event loop's thread."""
        self._reader_gone = True
        self._room.release()  # wakes a feed waiting for room

    def close(self, error: BaseException | None = None) -> None:
        """End of the stream (or the error the reader raises); never blocks."""
        self._queue.put(error)

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buffer) < size):
            item = self._queue.get()
            if item is None:
                self._eof = True
            elif isinstance(item, BaseException):
                raise item
            else:
                self._buffer.extend(item)
                self._made_room()
        if size < 0:
            size = len(self._buffer)
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def _made_room(self) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody feeds
                self._loop.call_soon_threadsafe(self._room.release)


class ObjectStore:
    def __init__(self, settings: S3Settings, public_endpoint: str | None = None) -> None:
        self.bucket = settings.s3_bucket
        self._client = _client(settings.s3_endpoint, settings)
        # Presigned URLs must name the host clients reach, which may differ in a cluster.
        self._presigner = _client(public_endpoint, settings) if public_endpoint else self._client
        self._expiry = timedelta(seconds=settings.presign_expiry_s)

    async def ensure_bucket(self) -> None:
        def run() -> None:
            with _translate(self.bucket):
                if not self._client.bucket_exists(self.bucket):
                    try:
                        self._client.make_bucket(self.bucket)
                    except S3Error as exc:
                        if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                            raise

        await asyncio.to_thread(run)

    async def ping(self) -> bool:
        try:
            await asyncio.to_thread(self._client.bucket_exists, self.bucket)
        except Exception:
            return False
        return True

    def put_stream_sync(
        self, key: str, stream: IO[bytes] | ChunkPipe, content_type: str, metadata: dict[str, str]
    ) -> None:
        with _translate(key):
            self._client.put_object(
                self.bucket,
                key,
                stream,  # type: ignore[arg-type]
                length=-1,
                part_size=MIN_PART_SIZE,
                content_type=content_type,
                metadata=metadata,  # type: ignore[arg-type]
            )

    async def put_file(self, key: str, path: Path, content_type: str) -> StoredObject:
        def run() -> StoredObject:
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            with _translate(key):
                self._client.fput_object(self.bucket, key, str(path), content_type=content_type)
            return StoredObject(key=key, size=path.stat().st_size, sha256=digest.hexdigest())

        return await asyncio.to_thread(run)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> StoredObject:
        def run() -> StoredObject:
            import io

            with _translate(key):
                self._client.put_object(
                    self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
                )
            return StoredObject(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

        return await asyncio.to_thread(run)

    async def get_bytes(self, key: str) -> bytes:
        def run() -> bytes:
            with _translate(key):
                response = self._client.get_object(self.bucket, key)
                try:
                    return bytes(response.read())
                finally:
                    response.close()
                    response.release_conn()

        return await asyncio.to_thread(run)

    async def download(self, key: str, path: Path) -> int:
        def run() -> int:
            with _translate(key):
                self._client.fget_object(self.bucket, key, str(path))
            return path.stat().st_size

        return await asyncio.to_thread(run)

    async def remove(self, key: str) -> None:
        def run() -> None:
            with _translate(key):
                self._client.remove_object(self.bucket, key)

        await asyncio.to_thread(run)

    async def copy(self, source_key: str, key: str) -> None:
        """Server-side copy inside the bucket (no bytes pass through us)."""
        from minio.commonconfig import CopySource

        def run() -> None:
            with _translate(source_key):
                self._client.copy_object(self.bucket, key, CopySource(self.bucket, source_key))

        await asyncio.to_thread(run)

    async def remove_many(self, keys: list[str]) -> None:
        """Delete objects (missing ones are fine); raises StorageUnavailable on any error."""
        from minio.deleteobjects import DeleteObject

        def run() -> None:
            with _translate(keys[0] if keys else ""):
                errors = list(
                    self._client.remove_objects(self.bucket, [DeleteObject(k) for k in keys])
                )
            if errors:
                raise StorageUnavailable(f"could not delete {len(errors)} objects: {errors[0]}")

        if keys:
            await asyncio.to_thread(run)

    async def remove_prefix(self, prefix: str) -> list[str]:
        """Delete every object under `prefix`; returns the keys deleted."""
        keys = await self.list_keys(prefix)
        await self.remove_many(keys)
        return keys

    async def exists(self, key: str) -> bool:
        def run() -> bool:
            try:
                with _translate(key):
                    self._client.stat_object(self.bucket, key)
            except InputNotFound:
                return False
            return True

        return await asyncio.to_thread(run)

    async def list_keys(self, prefix: str) -> list[str]:
        def run() -> list[str]:
            with _translate(prefix):
                return [
                    o.object_name
                    for o in self._client.list_objects(self.bucket, prefix=prefix, recursive=True)
                    if o.object_name
                ]

        return await asyncio.to_thread(run)

    def presign_get(self, key: str, filename: str | None = None) -> str:
        params: dict[str, Any] = {}
        if filename:
            safe = filename.replace('"', "")
            params["response-content-disposition"] = f'attachment; filename="{safe}"'
        with _translate(key):
            return self._presigner.presigned_get_object(
                self.bucket, key, expires=self._expiry, response_headers=params or None
            )


def upload_key(file_id: object) -> str:
    return f"files/{file_id}"


def output_key(job_id: object, name: str) -> str:
    return f"jobs/{job_id}/{name}"
