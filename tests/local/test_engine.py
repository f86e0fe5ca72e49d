"""The faster-whisper adapter: decoding errors are told apart, options are honoured."""

from __future__ import annotations

import threading
import wave
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from contracts import TranscribeOptions
from services.common.errors import UnreadableMedia, UnsupportedMedia
from services.transcriber.adapters.chunks import SAMPLE_RATE
from services.transcriber.adapters.model_store import packaged_model
from services.transcriber.adapters.whisper import (
    DeviceChoice,
    WhisperEngine,
    choose_device,
    decode,
)
from tests.support import media


def test_text_is_not_media(not_media: Path) -> None:
    with pytest.raises(UnreadableMedia):
        decode(not_media)


def test_an_empty_file_is_not_media(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableMedia):
        decode(empty)


def test_cpu_gets_int8_by_default() -> None:
    assert choose_device("cpu", "auto") == DeviceChoice("cpu", "int8")
    assert choose_device("cuda", "auto") == DeviceChoice("cuda", "float16")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhisperEngine]:
    # As the transcriber runs on CPU (two batches at once), but jobs cut their chunks
    # side by side (as on a GPU) and a batch waits up to 1 s to fill, so that jobs
    # started together do meet in batches.
    eng = WhisperEngine(
        packaged_model(tmp_path_factory.mktemp("models")),
        DeviceChoice("cpu", "int8"),
        num_workers=2,
        prepare_at_once=4,
        batch_wait_s=1.0,
    )
    eng.load()
    yield eng
    eng.close()  # no batcher thread inside the model when the interpreter exits


@pytest.mark.parametrize("batch_size", [1, 8])
def test_speech_is_transcribed_with_rising_progress(
    engine: WhisperEngine, speech_wav: Path, batch_size: int
) -> None:
    progress: list[float] = []
    result = engine.transcribe(
        decode(speech_wav), TranscribeOptions(batch_size=batch_size), progress.append, lambda: False
    )
    assert result.language == "en"
    assert media.word_error_rate(media.SPEECH_TEXT, result.text) <= 0.15
    assert progress == sorted(progress) and progress[-1] > 0.9
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)


def test_word_timestamps_are_returned_when_asked(engine: WhisperEngine, speech_wav: Path) -> None:
    result = engine.transcribe(
        decode(speech_wav),
        TranscribeOptions(word_timestamps=True, batch_size=1),
        lambda _: None,
        lambda: False,
    )
    words = [w for s in result.segments for w in (s.words or [])]
    assert len(words) > 50
    assert all(w.end >= w.start for w in words)


def test_another_language_is_detected_and_transcribed_in_it(
    engine: WhisperEngine, tmp_path: Path
) -> None:
    text = "Buenos días. Hoy probamos un sistema que convierte grabaciones largas en texto."
    result = engine.transcribe(
        decode(media.speak(text, tmp_path / "es.wav", voice="es")),
        TranscribeOptions(),
        lambda _: None,
        lambda: False,
    )
    assert result.language == "es"
    assert "buenos días" in result.text.lower()


def test_silence_completes_with_no_text(engine: WhisperEngine, tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0" * 16000 * 2 * 10)
    result = engine.transcribe(decode(path), TranscribeOptions(), lambda _: None, lambda: False)
    assert result.text == ""
    assert result.segments == []
    assert result.duration_s == 10.0


def test_a_video_without_sound_is_unsupported_media(tmp_path: Path) -> None:
    path = tmp_path / "silent-film.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), dtype=np.uint8), "rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with pytest.raises(UnsupportedMedia, match="no audio"):
        decode(path)


def _histogram(name: str) -> tuple[float, float]:
    """(count, sum) of one of the transcriber's batch histograms."""
    from prometheus_client import REGISTRY

    count = REGISTRY.get_sample_value(f"{name}_count") or 0.0
    total = REGISTRY.get_sample_value(f"{name}_sum") or 0.0
    return count, total


def test_jobs_held_together_share_batches_and_each_gets_what_it_would_alone(
    engine: WhisperEngine, speech_wav: Path, tmp_path: Path
) -> None:
    """Cross-job batching: four jobs at once (two kinds of options), decoded in shared
    batches, each result exactly the one the job gets on its own."""
    spanish = decode(
        media.speak("Buenos días. Hoy probamos un sistema nuevo.", tmp_path / "es.wav", voice="es")
    )
    english = decode(speech_wav)
    jobs = [
        (english, TranscribeOptions()),
        (spanish, TranscribeOptions()),
        (english, TranscribeOptions(word_timestamps=True)),
        (english, TranscribeOptions()),
    ]
    alone = [engine.transcribe(a, o, lambda _: None, lambda: False) for a, o in jobs]
    batches_before, chunks_before = _histogram("jetscribe_transcriber_batch_chunks")
    _, jobs_before = _histogram("jetscribe_transcriber_batch_jobs")

    together: list[object] = [None] * len(jobs)
    progress: list[list[float]] = [[] for _ in jobs]

    def run(i: int) -> None:
        audio, options = jobs[i]
        together[i] = engine.transcribe(audio, options, progress[i].append, lambda: False)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert together == alone
    batches, chunks = _histogram("jetscribe_transcriber_batch_chunks")
    _, jobs_seen = _histogram("jetscribe_transcriber_batch_jobs")
    # the English jobs with the same options shared batches: fewer batches than jobs' turns
    assert jobs_seen - jobs_before > batches - batches_before
    assert chunks - chunks_before == sum(len(prepare_chunks(engine, a, o)) for a, o in jobs)
    assert all(p and p[-1] == 1.0 and p == sorted(p) for p in progress)


def test_word_timestamps_over_many_batches_are_the_pipelines_own(
    engine: WhisperEngine, speech_wav: Path
) -> None:
    """A word-timestamp job's batches decode on both workers at once and are aligned
    afterwards in order (alignment.py): its words are exactly those of faster-whisper's
    pipeline loop, which aligns each batch right after decoding it, in order."""
    audio = decode(speech_wav)
    pause = np.zeros(SAMPLE_RATE * 2, dtype=audio.dtype)
    long = np.concatenate([audio, pause] * 4 + [audio])
    options = TranscribeOptions(word_timestamps=True, batch_size=2)  # batched: size > 1
    assert len(prepare_chunks(engine, long, options)) >= 5  # three batches or more

    ours = engine.transcribe(long, options, lambda _: None, lambda: False)
    assert sum(len(s.words or []) for s in ours.segments) > 100
    assert ours.segments == pipelines_own_segments(engine, long, options)


@pytest.mark.parametrize("one_chunk", [True, False])
def test_the_language_detections_encoding_is_reused_where_it_is_the_first_chunks_window(
    engine: WhisperEngine, speech_wav: Path, monkeypatch: pytest.MonkeyPatch, one_chunk: bool
) -> None:
    """Detecting the language encodes a window. A file of one chunk: that window is the
    chunk's own, and its batch takes the output (encoded.py) instead of running the
    encoder on it again (one window encoded). Several chunks, the first under 30 s: the
    window runs on into the second chunk (faster-whisper's), so nothing is reused (one
    window more than chunks). Either way the segments are those of the pipeline
    encoding every chunk itself."""
    speech = decode(speech_wav)
    pause = np.zeros(SAMPLE_RATE * 2, dtype=speech.dtype)
    audio = speech[: SAMPLE_RATE * 20] if one_chunk else np.concatenate([speech, pause, speech])
    options = TranscribeOptions(batch_size=2)  # the language is detected
    chunks = len(prepare_chunks(engine, audio, options))
    assert (chunks == 1) == one_chunk
    windows: list[int] = []
    real_encode = engine._model.encode

    def counted(features: np.ndarray) -> object:
        windows.append(1 if features.ndim == 2 else features.shape[0])
        return real_encode(features)

    monkeypatch.setattr(engine._model, "encode", counted)
    ours = engine.transcribe(audio, options, lambda _: None, lambda: False)
    assert sum(windows) == (1 if chunks == 1 else chunks + 1)
    monkeypatch.undo()
    assert ours.language == "en" and ours.segments == pipelines_own_segments(engine, audio, options)


def pipelines_own_segments(
    engine: WhisperEngine, audio: np.ndarray, options: TranscribeOptions
) -> list[object]:
    """The segments of faster-whisper's own pipeline loop over the job's chunks, its
    batches as ours (`batch_size` chunks, in order; the encoder runs on every chunk)."""
    from faster_whisper import BatchedInferencePipeline

    from services.transcriber.adapters.chunks import prepare, to_segments
    from services.transcriber.adapters.whisper import to_segment

    prepared = prepare(engine._model, audio, options)
    pipeline = BatchedInferencePipeline(engine._model)
    pipeline.last_speech_timestamp = 0.0  # as its transcribe() starts a file
    size = options.batch_size
    outputs = [
        part
        for at in range(0, len(prepared.chunks), size)
        for part in pipeline.forward(
            np.stack(prepared.features[at : at + size]),
            prepared.tokenizer,
            prepared.chunks[at : at + size],
            prepared.options,
        )
    ]
    return [to_segment(segment, options) for segment in to_segments(prepared, outputs)]


def prepare_chunks(
    engine: WhisperEngine, audio: np.ndarray, options: TranscribeOptions
) -> list[object]:
    from services.transcriber.adapters.chunks import prepare

    return list(prepare(engine._model, audio, options).chunks)


def test_a_cancelled_job_stops_and_leaves_the_others_going(
    engine: WhisperEngine, speech_wav: Path
) -> None:
    from services.transcriber.errors import Cancelled

    audio = decode(speech_wav)
    long = np.concatenate([audio] * 4)
    stop = threading.Event()
    outcome: dict[str, object] = {}

    def cancelled_job() -> None:
        try:
            engine.transcribe(
                long, TranscribeOptions(batch_size=2), lambda _: stop.set(), stop.is_set
            )
        except Cancelled:
            outcome["cancelled"] = True

    thread = threading.Thread(target=cancelled_job)
    thread.start()
    other = engine.transcribe(audio, TranscribeOptions(batch_size=2), lambda _: None, lambda: False)
    thread.join(timeout=600)
    assert outcome == {"cancelled": True}
    assert media.word_error_rate(media.SPEECH_TEXT, other.text) <= 0.15
    assert engine.backlog() == 0
