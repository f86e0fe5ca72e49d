"""Prometheus metrics of the converter: none of its own so far; it reports the shared
worker ones (services.common.metrics: jobs, durations, in flight, S3 bytes)."""
