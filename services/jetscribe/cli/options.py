"""The options and arguments several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

CONNECTION = "Connection"
Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="The gateway's URL (default: JETSCRIBE_URL, else http://127.0.0.1:8000).",
        rich_help_panel=CONNECTION,
        show_default=False,
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help="The API key (default: JETSCRIBE_API_KEY).",
        rich_help_panel=CONNECTION,
        show_default=False,
    ),
]
Json = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout (for scripts).")
]
Out = Annotated[
    Path,
    typer.Option("--out", "-o", file_okay=False, help="Folder for the results (made if missing)."),
]
CancelOnInterrupt = Annotated[
    bool,
    typer.Option(
        "--cancel-on-interrupt",
        help="Ctrl-C cancels the jobs (by default they keep running on the server).",
    ),
]
NoWait = Annotated[
    bool, typer.Option("--no-wait", help="Submit, print the job ids and exit; do not follow.")
]
JobId = Annotated[UUID, typer.Argument(metavar="ID", help="A job's id (a batch's too).")]
MediaFiles = Annotated[
    list[Path],
    typer.Argument(
        metavar="FILE|DIR...",
        exists=True,
        readable=True,
        help="Audio or video files; a folder stands for the media files in it.",
        show_default=False,
    ),
]
