"""Prometheus metrics of the gateway."""

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "jetscribe_gateway_requests_total", "HTTP requests", ["method", "route", "status"]
)
LATENCY = Histogram(
    "jetscribe_gateway_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
JOBS_SUBMITTED = Counter("jetscribe_gateway_jobs_submitted_total", "Jobs submitted", ["type"])
