"""Progress as the user sees it: one byte bar per upload, one bar per job (state,
percent, elapsed, ETA) on a terminal; one line per change of state elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from contracts import JobEvent, JobRecord

TOTAL = 100.0  # a job's bar runs from 0 to 100 (percent)


@dataclass
class BarState:
    """A job's state as its events tell it, pure. A pipeline's top-level job (`steps`
    > 1) runs step 0 itself: that step's progress (0..1 of the step) counts for its
    share of the chain, its `completed` is not the job's (the last step's result type,
    `last_type`, is); later the ledger reports the chain's own progress."""

    steps: int = 1
    last_type: str | None = None
    state: str = "pending"
    progress: float = 0.0  # 0..1 of the whole job
    attempt: int = 1
    first_step_done: bool = False
    error: str | None = None

    @property
    def terminal(self) -> bool:
        return self.state in ("completed", "failed", "cancelled", "expired")

    def _running(self) -> str:
        word = "processing" if self.attempt == 1 else f"processing (attempt {self.attempt})"
        if self.steps > 1:
            step = min(self.steps, int(self.progress * self.steps + 1e-9) + 1)
            return f"{word}, step {step}/{self.steps}"
        return word

    def apply(self, event: JobEvent) -> None:
        if self.terminal:
            return
        match event.kind:
            case "queued":
                self.state = "queued"
            case "started":
                if event.attempt > self.attempt:
                    self.progress = 1 / self.steps if self.first_step_done else 0.0
                self.attempt = max(self.attempt, event.attempt)
                self.state = self._running()
            case "progressed":
                share = 1 / self.steps if self.steps > 1 and not self.first_step_done else 1.0
                self.progress = max(self.progress, min(1.0, event.progress * share))
                self.state = self._running()
            case "requeued":
                self.progress = 1 / self.steps if self.first_step_done else 0.0
                self.attempt = max(self.attempt, event.attempt)
                self.state = f"retrying ({event.error.code})"
            case "completed":
                if self.steps > 1 and event.result.type != self.last_type:
                    self.first_step_done = True
                    self.progress = max(self.progress, 1 / self.steps)
                    self.state = self._running()
                else:
                    self.progress, self.state = 1.0, "completed"
            case "failed":
                self.state, self.error = "failed", f"{event.error.code}: {event.error.message}"
            case "cancelled" | "expired":
                self.state = event.kind

    def settle(self, job: JobRecord) -> None:
        """The job's stored state has the last word."""
        self.state = job.status.value if job.status.is_terminal else self.state
        if job.status.value == "completed":
            self.progress = 1.0
        if job.error is not None:
            self.error = f"{job.error.code}: {job.error.message}"


@dataclass
class Display:
    """Where progress goes: `console` (None: nowhere); bars only on a terminal."""

    console: Console | None

    @property
    def live(self) -> bool:
        return self.console is not None and self.console.is_terminal

    def line(self, text: str, style: str | None = None) -> None:
        if self.console is not None:
            self.console.print(Text(text, style=style or ""), soft_wrap=True)


class _Bars:
    """A rich Progress on a terminal, nothing otherwise."""

    def __init__(self, display: Display, *columns: ProgressColumn) -> None:
        self.display = display
        self.progress: Progress | None = None
        if display.live:
            self.progress = Progress(*columns, console=display.console)

    def __enter__(self) -> Self:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.progress is not None:
            self.progress.stop()

    def line(self, text: str, style: str | None = None) -> None:
        """A line above the bars (or alone, without them)."""
        if self.progress is not None:
            self.progress.console.print(Text(text, style=style or ""), soft_wrap=True)
        else:
            self.display.line(text, style)


class UploadBars(_Bars):
    def __init__(self, display: Display) -> None:
        super().__init__(
            display,
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
        )

    def start(self, label: str, size: int) -> UploadBar:
        task = None
        if self.progress is not None:
            task = self.progress.add_task(label, total=size or None)
        return UploadBar(self, label, size, task)


@dataclass
class UploadBar:
    bars: UploadBars
    label: str
    size: int
    task: TaskID | None

    def sent(self, count: int) -> None:
        if self.bars.progress is not None and self.task is not None:
            self.bars.progress.update(self.task, completed=count)

    def done(self) -> None:
        if self.bars.progress is not None and self.task is not None:
            self.bars.progress.update(self.task, completed=self.size)
        else:
            self.bars.line(f"{self.label}: uploaded ({decimal(self.size)})")


class JobBoard(_Bars):
    def __init__(self, display: Display) -> None:
        super().__init__(
            display,
            TextColumn("{task.description}", markup=False),
            TextColumn("{task.fields[state]}", markup=False),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )

    def add(self, label: str, state: BarState) -> JobBar:
        task = None
        if self.progress is not None:
            task = self.progress.add_task(label, total=TOTAL, state=state.state)
        return JobBar(self, label, state, task)


@dataclass
class JobBar:
    board: JobBoard
    label: str
    state: BarState = field(default_factory=BarState)
    task: TaskID | None = None
    _shown: str = ""

    def apply(self, event: JobEvent) -> None:
        self.state.apply(event)
        self._show()

    def settle(self, job: JobRecord) -> None:
        self.state.settle(job)
        self._show()

    def fail(self, reason: str) -> None:
        """The job could not be followed to its end (the server went away)."""
        self.state.state, self.state.error = "failed", reason
        self._show()

    def _show(self) -> None:
        progress = self.board.progress
        if progress is not None and self.task is not None:
            progress.update(
                self.task, completed=self.state.progress * TOTAL, state=self.state.state
            )
            if self.state.terminal:
                progress.stop_task(self.task)
        elif self.state.state != self._shown and not self.state.terminal:
            # Terminal states are reported once, with the output, by the command.
            self.board.line(f"{self.label}: {self.state.state}")
        self._shown = self.state.state
