"""Voice embeddings: resemblyzer's pretrained speaker encoder (GE2E, 17 MB, shipped in
its wheel), run with torch on the CPU. The only module that imports torch.

resemblyzer's package imports librosa (numba, llvmlite: ~150 MB) for one mel
spectrogram, and webrtcvad for a VAD we do not use, so its network (3-layer LSTM,
linear, ReLU, L2 norm: the code is Apache-2.0 and tiny) is rebuilt here and its weights
file loaded from the installed package without importing it. The mel spectrogram is
librosa's (power STFT, Hann, n_fft 400, hop 160, centred; Slaney mel filters, 40 bands)
with faster-whisper's copy of librosa's filter bank.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
N_FFT, HOP, N_MELS = 400, 160, 40
TARGET_DBFS = -30.0  # resemblyzer's volume normalisation (only ever louder)


class EncoderMissing(RuntimeError):
    """The diarization extra is not installed (torch, resemblyzer's weights)."""


def weights_path() -> Path:
    spec = importlib.util.find_spec("resemblyzer")  # finds the package, runs none of it
    if spec is None or not spec.submodule_search_locations:
        raise EncoderMissing("diarization needs the `diarization` extra (resemblyzer, torch)")
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.exists():
        raise EncoderMissing(f"resemblyzer's weights are missing: {path}")
    return path


def gain(audio: np.ndarray, block: int = 1 << 20) -> float:
    """resemblyzer's volume normalisation to -30 dBFS, as a factor (only ever louder);
    the mean square summed a block at a time (no squared copy of a long file)."""
    if not audio.size:
        return 1.0
    total = sum(
        float(np.dot(piece, piece))
        for piece in (audio[i : i + block].astype(np.float64) for i in range(0, audio.size, block))
    )
    rms = (total / audio.size) ** 0.5
    if rms <= 0:
        return 1.0
    return float(max(1.0, 10 ** ((TARGET_DBFS - 20 * np.log10(rms)) / 20)))


def mel_frames(audio: np.ndarray, factor: float = 1.0, block: int = 6000) -> np.ndarray:
    """(frames, 40) power mel spectrogram, one frame every 10 ms, as resemblyzer's
    (centred: the signal is taken as zero outside); `block` frames at a time, each
    from its own slice of `audio` (a long file is never copied whole)."""
    from faster_whisper.feature_extractor import FeatureExtractor

    filters = FeatureExtractor.get_mel_filters(SAMPLE_RATE, N_FFT, n_mels=N_MELS).T
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic, as librosa's
    count = 1 + len(audio) // HOP
    out = np.empty((count, N_MELS), dtype=np.float32)
    for first in range(0, count, block):
        n = min(block, count - first)
        start = first * HOP - N_FFT // 2  # frame j is centred on sample j * HOP
        stop = start + (n - 1) * HOP + N_FFT
        piece = np.zeros(stop - start, dtype=np.float32)
        lo, hi = max(0, start), min(len(audio), stop)
        piece[lo - start : hi - start] = audio[lo:hi]
        piece *= factor
        frames = np.lib.stride_tricks.sliding_window_view(piece, N_FFT)[::HOP]
        power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
        out[first : first + n] = power @ filters
    return out


class VoiceEncoder:
    """Embeds windows of 16-kHz audio: one 256-d unit vector per window."""

    def __init__(self, threads: int = 1) -> None:
        import torch
        from torch import nn

        self._torch = torch
        self._lock = threading.Lock()  # one forward at a time: torch's threads are shared
        torch.set_num_threads(max(1, threads))
        net: Any = nn.Module()
        net.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
        net.linear = nn.Linear(256, 256)
        checkpoint = torch.load(weights_path(), map_location="cpu", weights_only=True)
        loaded = net.load_state_dict(checkpoint["model_state"], strict=False)
        unexpected = [k for k in loaded.unexpected_keys if not k.startswith("similarity_")]
        if loaded.missing_keys or unexpected:  # another resemblyzer's layout: never guess
            raise EncoderMissing(
                f"resemblyzer's weights do not fit (missing {loaded.missing_keys}, "
                f"unexpected {unexpected}): install resemblyzer==0.1.4"
            )
        net.eval()
        self._net = net

    def embed(self, audio: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
        """(len(spans), 256): each span (seconds) of `audio` as 160 mel frames."""
        mels = mel_frames(audio, gain(audio))
        length = round(1.6 * SAMPLE_RATE / HOP)
        batch = np.zeros((len(spans), length, N_MELS), dtype=np.float32)
        for i, (start, _end) in enumerate(spans):
            first = min(int(start * SAMPLE_RATE / HOP), max(0, len(mels) - length))
            piece = mels[first : first + length]
            batch[i, : len(piece)] = piece
        out = []
        with self._lock, self._torch.inference_mode():
            for at in range(0, len(batch), 256):
                _, (hidden, _) = self._net.lstm(self._torch.from_numpy(batch[at : at + 256]))
                raw = self._torch.relu(self._net.linear(hidden[-1]))
                out.append((raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-9)).numpy())
        return np.concatenate(out) if out else np.zeros((0, 256), dtype=np.float32)
