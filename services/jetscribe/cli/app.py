"""The `jetscribe` command: its options and sub-commands (each a thin layer over the
coroutines in `running` and `managing`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from contracts import JobStatus, JobType

from . import managing, running
from .inputs import NoMediaError, expand
from .options import ApiKey, CancelOnInterrupt, JobId, Json, MediaFiles, NoWait, Out, Server
from .plans import Format, Plan, PlanError, Preset, convert_plan, fix_plan, transcribe_plan
from .runtime import Connection, Session, Ui, execute

app = typer.Typer(
    name="jetscribe",
    help="Transcripts, subtitles and conversions of audio and video on a jetscribe server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # never print an API key held in a local
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="JETSCRIBE_URL",
            help="The gateway's URL (default: http://127.0.0.1:8000).",
            show_default=False,
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", envvar="JETSCRIBE_API_KEY", help="The API key.", show_default=False
        ),
    ] = None,
) -> None:
    """Options here apply to every command (each command takes them too)."""
    ctx.obj = Connection(server, api_key)


def _connection(ctx: typer.Context, server: str | None, api_key: str | None) -> Connection:
    base = ctx.obj if isinstance(ctx.obj, Connection) else Connection()
    return base.given(server, api_key)


def _inputs(paths: list[Path]) -> list[Path]:
    try:
        return expand(paths)
    except NoMediaError as exc:
        raise typer.BadParameter(str(exc), param_hint="'FILE|DIR...'") from exc


def _usage(error: PlanError) -> typer.BadParameter:
    return typer.BadParameter(str(error), param_hint=f"'{error.param}'")


def _run(
    ctx: typer.Context,
    plan: Plan,
    paths: list[Path],
    out: Path,
    *,
    json: bool,
    wait: bool,
    cancel: bool,
    server: str | None,
    api_key: str | None,
) -> None:
    ui = Ui(json=json)

    async def work(session: Session) -> int:
        return await running.run_plan(ui, session, plan, paths, out, wait)

    execute(work, ui, _connection(ctx, server, api_key), cancel_on_interrupt=cancel)


@app.command()
def transcribe(
    ctx: typer.Context,
    files: MediaFiles,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="text or json (transcript), srt or vtt (subtitles); default: text, srt "
            "with --fix/--translate.",
            show_default=False,
        ),
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", "-l", help="Spoken language (ISO code).")
    ] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Fix the subtitles with the LLM.")] = False,
    translate: Annotated[
        str | None,
        typer.Option("--translate", metavar="LANG", help="Translate the subtitles to LANG."),
    ] = None,
    diarize: Annotated[
        bool, typer.Option("--diarize", help="Label who speaks (SPEAKER_00, ...).")
    ] = False,
    out: Out = Path("."),
    no_wait: NoWait = False,
    json: Json = False,
    cancel_on_interrupt: CancelOnInterrupt = False,
    server: Server = None,
    api_key: ApiKey = None,
) -> None:
    """Transcripts or subtitles: each result is written to OUT/<input stem>.<format>."""
    try:
        plan = transcribe_plan(fmt, language, fix, translate, diarize)
    except PlanError as exc:
        raise _usage(exc) from exc
    _run(
        ctx,
        plan,
        _inputs(files),
        out,
        json=json,
        wait=not no_wait,
        cancel=cancel_on_interrupt,
        server=server,
        api_key=api_key,
    )


@app.command()
def convert(
    ctx: typer.Context,
    files: MediaFiles,
    preset: Annotated[
        Preset, typer.Option("--preset", "-p", help="The output's format.", show_default=False)
    ],
    out: Out = Path("."),
    no_wait: NoWait = False,
    json: Json = False,
    cancel_on_interrupt: CancelOnInterrupt = False,
    server: Server = None,
    api_key: ApiKey = None,
) -> None:
    """Convert media: each output is downloaded to OUT/<input stem>.<extension>."""
    _run(
        ctx,
        convert_plan(preset.value),
        _inputs(files),
        out,
        json=json,
        wait=not no_wait,
        cancel=cancel_on_interrupt,
        server=server,
        api_key=api_key,
    )


@app.command()
def fix(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE.srt...",
            exists=True,
            dir_okay=False,
            readable=True,
            help="SRT subtitles.",
            show_default=False,
        ),
    ],
    language: Annotated[
        str | None, typer.Option("--language", "-l", help="The subtitles' language.")
    ] = None,
    out: Out = Path("."),
    no_wait: NoWait = False,
    json: Json = False,
    cancel_on_interrupt: CancelOnInterrupt = False,
    server: Server = None,
    api_key: ApiKey = None,
) -> None:
    """Fix subtitles with the LLM (timing untouched): OUT/<stem>.fixed.srt."""
    _run(
        ctx,
        fix_plan(language),
        _inputs(files),
        out,
        json=json,
        wait=not no_wait,
        cancel=cancel_on_interrupt,
        server=server,
        api_key=api_key,
    )


@app.command()
def jobs(
    ctx: typer.Context,
    status: Annotated[
        JobStatus | None, typer.Option("--status", "-s", help="Only jobs in this state.")
    ] = None,
    type: Annotated[
        JobType | None, typer.Option("--type", "-t", help="Only jobs of this type.")
    ] = None,
    parent: Annotated[
        str | None, typer.Option("--batch", metavar="ID", help="Only the jobs of this batch.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500, help="At most N.")] = 20,
    json: Json = False,
    server: Server = None,
    api_key: ApiKey = None,
) -> None:
    """The latest jobs, newest first."""
    ui = Ui(json=json)

    async def work(session: Session) -> int:
        return await managing.list_jobs(ui, session, status, type, limit, parent)

    execute(work, ui, _connection(ctx, server, api_key))


@app.command()
def job(
    ctx: typer.Context,
    job_id: JobId,
    json: Json = False,
    server: Server = None,
    api_key: ApiKey = None,
) -> None:
    """A job's details and the timeline of its events."""
    ui = Ui(json=json)

    async def work(session: Session) -> int:
        return await managing.show_job(ui, session, str(job_id))

    execute(work, ui, _connection(ctx, server, api_key))


@app.command()
def follow(
    ctx: typer.Context,
    job_id: JobId,
    json: Json = False,
    cancel_on_interrupt: CancelOnInterrupt = False,
    server: Server = None,
    api_key: ApiKey = None,
) -> None:
    """Follow a job live until it ends (a batch: each of its jobs)."""
    ui = Ui(json=json)

    async def work(session: Session) -> int:
        return await running.follow_job(ui, session, str(job_id))

    execute(work, ui, _connection(ctx, server, api_key), cancel_on_interrupt=cancel_on_interrupt)


@app.command()
def cancel(
    ctx: typer.Context,
    job_id: JobId,
    json: Json = False,
    server: Server = None,
    api_key: ApiKey = None,
) -> None:
    """Cancel a job (a batch: all its jobs; a pipeline: its running step)."""
    ui = Ui(json=json)

    async def work(session: Session) -> int:
        return await managing.cancel_job(ui, session, str(job_id))

    execute(work, ui, _connection(ctx, server, api_key))


@app.command()
def download(
    ctx: typer.Context,
    job_id: JobId,
    out: Out = Path("."),
    json: Json = False,
    server: Server = None,
    api_key: ApiKey = None,
) -> None:
    """Download a job's output files (a batch: its jobs'), named after their inputs."""
    ui = Ui(json=json)

    async def work(session: Session) -> int:
        return await managing.download_job(ui, session, str(job_id), out)

    execute(work, ui, _connection(ctx, server, api_key))


def main() -> None:
    app(prog_name="jetscribe")
