"""fix_srt, translate_srt and summarize: text from S3 → LLM per chunk (concurrently) →
SRT (or a summary) into the result. Prompts, chunks and answer checks are in `fixer`
and `summary`; this module only runs them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import srt

from contracts import (
    FixSrtOptions,
    FixSrtResult,
    SummarizeOptions,
    SummaryResult,
    TranslateSrtOptions,
)
from services.common.adapters.s3 import ObjectStore
from services.common.errors import UnsupportedMedia
from services.common.job_context import JobCancelledError, JobContext, Outcome
from services.common.metrics import S3_BYTES
from services.common.outputs import save_output
from services.common.scratch import job_scratch

from . import fixer, summary
from .adapters.llm import LlmClient, Usage
from .errors import LlmOutputInvalid
from .metrics import LLM_TOKENS

T = TypeVar("T")
Messages = list[dict[str, str]]


class SrtJobs:
    def __init__(self, llm: LlmClient, store: ObjectStore, default_model: str) -> None:
        self._llm = llm
        self._store = store
        self._model = default_model

    async def fix_srt(self, ctx: JobContext) -> Outcome:
        options = ctx.options(FixSrtOptions)
        return await self._rewrite(
            ctx, options, options.system_prompt or fixer.FIX_PROMPT, "fixed.srt", options.language
        )

    async def translate_srt(self, ctx: JobContext) -> Outcome:
        options = ctx.options(TranslateSrtOptions)
        prompt = options.system_prompt or fixer.TRANSLATE_PROMPT.format(
            language=options.target_language
        )
        return await self._rewrite(
            ctx, options, prompt, "translated.srt", options.target_language, kind="translate_srt"
        )

    async def _rewrite(
        self,
        ctx: JobContext,
        options: FixSrtOptions,
        prompt: str,
        name: str,
        language: str | None,
        kind: str = "fix_srt",
    ) -> Outcome:
        model = options.model or self._model
        cues = await self._read_cues(ctx.run.input_key)
        chunks = fixer.chunk(cues, options.chunk_cues)
        usage = Usage()
        done = 0

        async def one(chunk_: fixer.Chunk) -> tuple[dict[str, str] | None, str | None]:
            nonlocal done
            texts: dict[str, str] | None = None
            reason: str | None = None
            try:
                texts = await self._ask(
                    ctx,
                    model,
                    fixer.messages(chunk_, prompt),
                    options.temperature,
                    usage,
                    lambda answer: fixer.validate(answer, chunk_),
                )
            except fixer.InvalidAnswer as exc:
                reason = str(exc)  # the chunk keeps its text; the result says why
            done += 1
            ctx.report_progress(done / len(chunks))
            return texts, reason

        # A cancel aborts the calls in flight, not only the ones still to come.
        answers = await ctx.cancellable(asyncio.gather(*(one(c) for c in chunks)))
        outcome = fixer.Outcome(cues=[])
        for chunk_, (texts, reason) in zip(chunks, answers, strict=True):
            fixer.apply(chunk_, texts, reason, outcome)
        _count_tokens(usage)
        if outcome.kept == len(cues):
            raise LlmOutputInvalid(
                f"no chunk of {len(cues)} cues got a valid answer: {outcome.warnings[0]}"
            )
        content = fixer.compose(outcome.cues)
        output = await save_output(
            self._store, ctx.run.job_id, name, "application/x-subrip", content.encode()
        )
        result = FixSrtResult(
            type=kind,
            file_id=output.id,
            content=content,
            changed_cues=outcome.changed,
            kept_cues=outcome.kept,
            warnings=outcome.warnings,
            model=model,
            language=language,
            usage=usage.to_contract(),
        )
        return Outcome(result=result, outputs=[output], language=language)

    async def summarize(self, ctx: JobContext) -> Outcome:
        options = ctx.options(SummarizeOptions)
        model = options.model or self._model
        try:
            pieces = summary.split(summary.text_of(await self._download(ctx.run.input_key)))
        except summary.NotATextSource as exc:
            raise UnsupportedMedia(str(exc)) from exc
        if not pieces:
            raise UnsupportedMedia("the input has no text to summarise")
        system = summary.prompt(
            options.max_words, options.style, options.language, options.system_prompt
        )
        usage = Usage()

        async def ask(msgs: Messages) -> str:
            try:
                return await self._ask(
                    ctx, model, msgs, options.temperature, usage, summary.validate
                )
            except fixer.InvalidAnswer as exc:
                raise LlmOutputInvalid(f"no usable summary from the model: {exc}") from None

        parts = await ctx.cancellable(
            asyncio.gather(*(ask(summary.messages(system, text=p)) for p in pieces))
        )
        ctx.report_progress(0.9 if len(parts) > 1 else 1.0)
        final = (
            parts[0]
            if len(parts) == 1
            else await ask(summary.messages(system, summaries=list(parts)))
        )
        _count_tokens(usage)
        return Outcome(
            result=SummaryResult(summary=final, model=model, usage=usage.to_contract()),
            language=options.language,
        )

    async def _ask(
        self,
        ctx: JobContext,
        model: str,
        messages: Messages,
        temperature: float,
        usage: Usage,
        validate: Callable[[str], T],
    ) -> T:
        """The model's answer through `validate`, asked once more if it fails validation;
        the second failure's `InvalidAnswer` is raised."""
        for attempt in range(2):
            if ctx.cancelled():
                raise JobCancelledError
            text, used = await self._llm.complete(model, messages, temperature)
            usage.add(used)
            try:
                return validate(text)
            except fixer.InvalidAnswer:
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    async def _read_cues(self, key: str) -> list[srt.Subtitle]:
        try:
            return fixer.parse(fixer.decode(await self._download(key)))
        except fixer.SubtitleParseError as exc:
            raise UnsupportedMedia(str(exc)) from exc

    async def _download(self, key: str) -> bytes:
        with job_scratch() as tmp:
            path = Path(tmp) / "input"
            S3_BYTES.labels(direction="out").inc(await self._store.download(key, path))
            return path.read_bytes()


def _count_tokens(usage: Usage) -> None:
    LLM_TOKENS.labels(kind="prompt").inc(usage.prompt_tokens)
    LLM_TOKENS.labels(kind="completion").inc(usage.completion_tokens)
