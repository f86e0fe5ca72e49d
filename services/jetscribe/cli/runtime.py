"""Running a command: the connection, the consoles, and how it ends (exit codes).

0: every job completed; 1: a job did not, or the API answered an error, or the server
could not be reached (one line, no traceback); 2: usage (typer's); 130: interrupted —
the jobs keep running on the server unless `--cancel-on-interrupt` cancels them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from contracts import JobRecord

from ..client import AsyncClient
from ..errors import JetscribeError
from .progress import Display

OK, FAILED, INTERRUPTED = 0, 1, 130
PLAIN_WIDTH = 200  # not a terminal: lines are not cut at 80 columns (ids, paths)


@dataclass(frozen=True)
class Connection:
    server: str | None = None  # None: JETSCRIBE_URL, else http://127.0.0.1:8000
    api_key: str | None = None  # None: JETSCRIBE_API_KEY

    def client(self) -> AsyncClient:
        return AsyncClient(self.server, self.api_key)

    def given(self, server: str | None, api_key: str | None) -> Connection:
        """This connection with what a command's own options say instead."""
        return Connection(server or self.server, api_key or self.api_key)


def console(stderr: bool = False) -> Console:
    made = Console(stderr=stderr, highlight=False)
    if not made.is_terminal and "COLUMNS" not in os.environ:
        made.width = PLAIN_WIDTH
    return made


@dataclass
class Ui:
    """`json`: stdout holds one JSON document and nothing else; progress then goes to
    stderr, and only when that is a terminal."""

    json: bool = False
    out: Console = field(default_factory=console)
    err: Console = field(default_factory=lambda: console(stderr=True))

    @property
    def display(self) -> Display:
        if not self.json:
            return Display(self.out)
        return Display(self.err if self.err.is_terminal else None)

    def say(self, text: str, style: str | None = None) -> None:
        """A line of the human output (none with --json)."""
        if not self.json:
            self.out.print(Text(text, style=style or ""), soft_wrap=True)

    def warn(self, text: str) -> None:
        self.err.print(Text(text, style="red"), soft_wrap=True)

    def emit(self, document: Any) -> None:
        """The JSON document (with --json only)."""
        if self.json:
            sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
            sys.stdout.flush()


@dataclass
class Session:
    """What a command has submitted or is following: said or cancelled on Ctrl-C."""

    connection: Connection
    cancel_on_interrupt: bool = False
    roots: list[JobRecord] = field(default_factory=list)


Work = Callable[[Session], Coroutine[Any, Any, int]]


def execute(
    work: Work, ui: Ui, connection: Connection, cancel_on_interrupt: bool = False
) -> NoReturn:
    """Run a command's coroutine and exit with its code."""
    session = Session(connection, cancel_on_interrupt)
    try:
        code = asyncio.run(work(session))
    except KeyboardInterrupt:
        code = interrupted(session, ui)
    except JetscribeError as exc:
        code = failed(ui, exc.code, exc.message)
    except OSError as exc:  # writing an output: a full disk, a folder not writable
        code = failed(ui, "local_error", str(exc))
    raise typer.Exit(code)


def failed(ui: Ui, code: str, message: str) -> int:
    ui.warn(f"error: {code}: {message}")
    ui.emit({"ok": False, "error": {"code": code, "message": message}})
    return FAILED


def interrupted(session: Session, ui: Ui) -> int:
    ids = [str(job.id) for job in session.roots]
    if not ids:
        ui.warn("interrupted: no job was submitted")
        ui.emit({"ok": False, "interrupted": True, "jobs": []})
        return INTERRUPTED
    cancelled: list[str] = []
    if session.cancel_on_interrupt:
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: no more waiting
            cancelled = asyncio.run(_cancel_all(session.connection, ids, ui))
    else:
        for job_id in ids:
            ui.warn(f"interrupted: jobs keep running on the server: jetscribe follow {job_id}")
    ui.emit({"ok": False, "interrupted": True, "jobs": ids, "cancelled": cancelled})
    return INTERRUPTED


async def _cancel_all(connection: Connection, ids: list[str], ui: Ui) -> list[str]:
    done: list[str] = []
    async with connection.client() as client:
        for job_id in ids:
            try:
                job = await client.cancel(job_id)
            except JetscribeError as exc:
                ui.warn(f"interrupted: {job_id} not cancelled: {exc.code}: {exc.message}")
                continue
            done.append(job_id)
            ui.warn(f"interrupted: cancelled {job_id} ({job.status.value})")
    return done
