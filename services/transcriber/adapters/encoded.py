"""Encoder outputs computed before a batch, reused in it instead of encoding again.

A job whose language is to be detected runs the encoder on its first chunk's window
(chunks.py). A short file is that one chunk, so encoding it again in its batch doubled
the encoder's work: about a quarter of a 30-s job's time on a CPU. The batch pipeline's
model is wrapped so that its `encode` takes the rows it is given as they are and runs
the encoder on the other rows only. (CTranslate2's CPU encoder gives a row the same
output whatever batch it is in, so nothing else changes.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class ReusingEncoder:
    """A `WhisperModel` whose `encode` uses `rows` (one per batch row, None: encode it)."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.rows: Sequence[np.ndarray | None] = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def encode(self, features: np.ndarray) -> Any:
        rows = self.rows
        if len(rows) != features.shape[0] or all(row is None for row in rows):
            return self._model.encode(features)
        import ctranslate2

        missing = [i for i, row in enumerate(rows) if row is None]
        fresh = iter(np.asarray(self._model.encode(features[missing])) if missing else ())
        whole = np.concatenate([row if row is not None else next(fresh)[None] for row in rows])
        return ctranslate2.StorageView.from_array(np.ascontiguousarray(whole))
