"""Prometheus metrics of the transcriber (the shared worker ones are in common.metrics)."""

from prometheus_client import Counter, Gauge, Histogram

MODEL_LOAD_SECONDS = Gauge("jetscribe_model_load_seconds", "Time to load the model")
AUDIO_SECONDS = Counter("jetscribe_transcribed_audio_seconds_total", "Audio seconds transcribed")
BATCH_CHUNKS = Histogram(
    "jetscribe_transcriber_batch_chunks",
    "Chunks decoded per model batch",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
BATCH_JOBS = Histogram(
    "jetscribe_transcriber_batch_jobs",
    "Jobs whose chunks shared one model batch",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
