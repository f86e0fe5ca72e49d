"""Upload bodies: a file streamed from disk (never read whole) with byte progress."""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

Progress = Callable[[int], None]  # called with the bytes sent so far


class CountingReader(io.RawIOBase):
    """A read-only view of a binary file that reports how far it has been read.

    httpx reads a multipart file part in chunks (after seeking to its start and
    measuring it with seek/tell), so the position is the number of bytes sent.
    """

    def __init__(self, inner: BinaryIO, on_progress: Progress | None) -> None:
        self._inner = inner
        self._on_progress = on_progress

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        if self._on_progress is not None and data:
            self._on_progress(self._inner.tell())
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def content_type_of(filename: str) -> str:
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


def size_of(file: BinaryIO) -> int | None:
    """The bytes from the file's position to its end, if it can seek."""
    if not file.seekable():
        return None
    here = file.tell()
    end = file.seek(0, io.SEEK_END)
    file.seek(here)
    return end - here


def name_of(file: str | Path | BinaryIO, filename: str | None) -> str:
    if filename:
        return filename
    if isinstance(file, str | Path):
        return Path(file).name
    return Path(str(getattr(file, "name", "upload"))).name or "upload"
