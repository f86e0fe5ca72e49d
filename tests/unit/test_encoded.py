"""Encoder rows at hand are reused; only the others go through the encoder, in place."""

from __future__ import annotations

import numpy as np

from services.transcriber.adapters.encoded import ReusingEncoder


class RowEncoder:
    """Stands in for a WhisperModel: a row's output is its feature's first value, spread."""

    frames_per_second = 50

    def __init__(self) -> None:
        self.batches: list[int] = []

    def encode(self, features: np.ndarray) -> np.ndarray:
        self.batches.append(features.shape[0])
        return np.stack([np.full((3, 2), f[0, 0], dtype=np.float32) for f in features])


def features(*values: float) -> np.ndarray:
    return np.stack([np.full((4, 5), v, dtype=np.float32) for v in values])


def test_rows_at_hand_are_taken_and_the_rest_encoded_in_their_places() -> None:
    model = RowEncoder()
    reusing = ReusingEncoder(model)
    reusing.rows = [None, np.full((1, 3, 2), 9.0, dtype=np.float32), None]
    out = np.asarray(reusing.encode(features(1.0, 2.0, 3.0)))
    assert model.batches == [2]  # only the two rows without an output
    assert out[:, 0, 0].tolist() == [1.0, 9.0, 3.0]


def test_without_rows_at_hand_the_model_encodes_the_whole_batch() -> None:
    model = RowEncoder()
    reusing = ReusingEncoder(model)
    reusing.rows = [None, None]
    assert np.asarray(reusing.encode(features(1.0, 2.0)))[:, 0, 0].tolist() == [1.0, 2.0]
    reusing.rows = ()
    reusing.encode(features(5.0))
    assert model.batches == [2, 1]


def test_every_row_at_hand_runs_no_encoder_and_other_attributes_pass_through() -> None:
    model = RowEncoder()
    reusing = ReusingEncoder(model)
    reusing.rows = [np.full((1, 3, 2), 7.0, dtype=np.float32)]
    assert np.asarray(reusing.encode(features(1.0)))[0, 0, 0] == 7.0
    assert model.batches == []
    assert reusing.frames_per_second == 50
