"""What the user named: files as given, folders as the media files directly inside them."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from pathlib import Path

# Containers some systems' mimetypes tables lack or misname (.ts is TypeScript to some).
MEDIA_EXTENSIONS = frozenset(
    {".mkv", ".m4a", ".m4v", ".opus", ".flac", ".aac", ".ogg", ".oga", ".mts", ".m2ts"}
)


class NoMediaError(ValueError):
    """A folder was named that holds no media file."""


def is_media(path: Path) -> bool:
    """Audio or video by name: extension, or what mimetypes guesses from it."""
    if path.suffix.lower() in MEDIA_EXTENSIONS:
        return True
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed is not None and guessed.split("/")[0] in ("audio", "video")


def media_in(folder: Path) -> list[Path]:
    """The media files directly inside `folder` (not below it), sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and is_media(p))


def size_of(path: Path) -> int:
    return path.stat().st_size


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given (whatever their type: the server judges them), each folder as its
    media files; each file once, in the order named. A folder without any media file
    raises NoMediaError."""
    found: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            inside = media_in(path)
            if not inside:
                raise NoMediaError(f"{path}: no audio or video file in this folder")
        else:
            inside = [path]
        for item in inside:
            key = item.resolve()
            if key not in seen:
                seen.add(key)
                found.append(item)
    return found
