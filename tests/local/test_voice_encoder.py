"""The voice encoder on the packaged weights (torch on CPU): its mel spectrogram in
blocks is the one-piece one, and its embeddings tell two espeak-ng voices apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.transcriber.adapters.voice_encoder import VoiceEncoder, mel_frames
from services.transcriber.adapters.whisper import decode
from tests.support import media
from tests.support.infra import unavailable


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray]:
    if not media.espeak_available():
        unavailable("espeak-ng (test speech)", RuntimeError("run make system-deps"))
    tmp = tmp_path_factory.mktemp("voices")
    text = media.SPEECH_TEXT[:300]
    a = decode(media.speak(text, Path(tmp) / "a.wav", voice="en-us+m3"))
    b = decode(media.speak(text, Path(tmp) / "b.wav", voice="en-us+f3"))
    return a, b


def test_mel_frames_in_blocks_are_the_whole_spectrogram(
    voices: tuple[np.ndarray, np.ndarray],
) -> None:
    audio = voices[0]
    whole = mel_frames(audio, block=10**9)
    assert whole.shape == (1 + len(audio) // 160, 40)
    assert np.allclose(mel_frames(audio, block=97), whole, rtol=1e-5, atol=1e-6)


def test_windows_of_one_voice_are_closer_than_of_two(voices: tuple[np.ndarray, np.ndarray]) -> None:
    encoder = VoiceEncoder()
    spans = [(t, t + 1.6) for t in np.arange(0.0, 8.0, 0.8)]
    a, b = (encoder.embed(v, spans) for v in voices)
    assert a.shape == (len(spans), 256) and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    within = 1 - float(np.mean(a @ a.T))
    across = 1 - float(np.mean(a @ b.T))
    assert across > within + 0.1, (within, across)
    end = len(voices[0]) / 16000
    tail = encoder.embed(voices[0], [(end - 0.5, end + 1.1)])  # runs past the end
    assert np.isfinite(tail).all() and tail.shape == (1, 256)
    assert encoder.embed(voices[0], []).shape == (0, 256)
