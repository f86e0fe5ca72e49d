"""Following a job's Server-Sent Events across dropped connections.

`EventStream` is the state both clients share: the last event id (sent back as
`Last-Event-ID` when reconnecting, so nothing is missed or repeated), the parsing of
frames into typed events, and when to give up. The gateway closes the stream after
the job's terminal event (or a `snapshot` frame when the history has aged out); a
stream that ends any other way was cut and is resumed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from uuid import UUID

import httpx
from httpx_sse import ServerSentEvent
from pydantic import ValidationError

from contracts import TERMINAL_KINDS, JobEvent, parse_event

from .errors import JetscribeError

RECONNECT_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)
# Reads wait this long for a byte: the gateway sends a keepalive every 15 s.
STREAM_TIMEOUT = httpx.Timeout(10.0, read=60.0)


@dataclass
class EventStream:
    job_id: UUID | str
    last_event_id: str | None = None
    live: bool = True  # False: the history only (the server closes after it)
    reconnect_s: float = 60.0  # keep trying this long after the last frame
    ended: bool = False
    seen_terminal: bool = False
    _drops: int = 0
    _last_frame_at: float = field(default_factory=time.monotonic)

    @property
    def path(self) -> str:
        return f"/v1/jobs/{self.job_id}/events"

    def params(self) -> dict[str, str]:
        return {} if self.live else {"follow": "false"}

    def headers(self) -> dict[str, str]:
        return {"Last-Event-ID": self.last_event_id} if self.last_event_id else {}

    def take(self, sse: ServerSentEvent) -> JobEvent | None:
        """The typed event of one frame (None for a frame that is not a job event)."""
        self._last_frame_at = time.monotonic()
        self._drops = 0
        if sse.id:
            self.last_event_id = sse.id
        if sse.event == "snapshot":  # the history aged out; the job's state ends it
            self.seen_terminal = True
            return None
        try:
            event = parse_event(sse.data)
        except ValidationError:  # a kind this client does not know: skipped
            return None
        if event.kind in TERMINAL_KINDS:
            self.seen_terminal = True
        return event

    @property
    def needs_check(self) -> bool:
        """A stream closed after a terminal-looking event may still be cut short: a
        pipeline's first step completes on the top-level job, which goes on. The job's
        state (`closed(job_ended=...)`) tells."""
        return self.live and self.seen_terminal

    def closed(self, job_ended: bool = False) -> float | None:
        """The server closed the stream: None if that is the end, else the seconds to
        wait before resuming it."""
        if not self.live or job_ended:
            self.ended = True
            return None
        self.seen_terminal = False
        return self.dropped(None)

    def dropped(self, exc: Exception | None) -> float:
        """Seconds to wait before reconnecting; raises once `reconnect_s` has passed
        with no frame."""
        if time.monotonic() - self._last_frame_at > self.reconnect_s:
            reason = f"{exc}" if exc else "the stream kept closing"
            raise JetscribeError(
                "stream_lost",
                f"events of job {self.job_id}: no answer for {self.reconnect_s:.0f} s ({reason})",
            )
        delay = RECONNECT_BACKOFF_S[min(self._drops, len(RECONNECT_BACKOFF_S) - 1)]
        self._drops += 1
        return delay
