"""Prometheus metrics of the transcriber (the shared worker ones are in common.metrics)."""

from prometheus_client import Counter, Gauge

MODEL_LOAD_SECONDS = Gauge("jetscribe_model_load_seconds", "Time to load the model")
AUDIO_SECONDS = Counter("jetscribe_transcribed_audio_seconds_total", "Audio seconds transcribed")
