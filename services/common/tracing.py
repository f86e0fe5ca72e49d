"""Trace context across NATS: gateway → ledger → worker → events, as W3C `traceparent`
headers (OpenTelemetry's propagator).

Spans are made through OpenTelemetry's API. They are exported only when an SDK is set
up: `OTEL_EXPORTER_OTLP_ENDPOINT` set and the `tracing` extra installed; otherwise the
context is still carried (a trace id is made at the edge when the client sent none)
and the trace id goes into every log line of the work it belongs to.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .logging import get_logger

log = get_logger(__name__)
PROPAGATOR = TraceContextTextMapPropagator()
TRACEPARENT = "traceparent"
_tracer = trace.get_tracer("jetscribe")


def configure_tracing(service: str) -> None:
    """Export spans over OTLP/HTTP when asked to (and the SDK is installed)."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but jetscribe[tracing] is not installed")
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def extract(headers: Mapping[str, str] | None, *, new_root: bool = False) -> otel_context.Context:
    """The context of incoming headers; with `new_root`, a fresh trace if they carry none."""
    ctx = PROPAGATOR.extract(dict(headers or {}))
    if new_root and not trace.get_current_span(ctx).get_span_context().is_valid:
        root = SpanContext(
            trace_id=int.from_bytes(secrets.token_bytes(16), "big") or 1,
            span_id=int.from_bytes(secrets.token_bytes(8), "big") or 1,
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.DEFAULT),
        )
        ctx = trace.set_span_in_context(NonRecordingSpan(root), ctx)
    return ctx


def inject(headers: dict[str, str] | None = None) -> dict[str, str]:
    """`headers` plus the current trace context."""
    out = dict(headers or {})
    PROPAGATOR.inject(out)
    return out


def trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


@contextmanager
def span(
    name: str, headers: Mapping[str, str] | None = None, new_root: bool = False, **attrs: Any
) -> Iterator[str | None]:
    """A span under the trace of `headers` (or the current one); yields the trace id,
    which is bound to every log line inside."""
    parent = extract(headers, new_root=new_root) if headers is not None or new_root else None
    with _tracer.start_as_current_span(name, context=parent, attributes=attrs):
        current = trace_id()
        with structlog.contextvars.bound_contextvars(trace_id=current):
            yield current
