"""fix_srt and translate_srt: SRT from S3 → LLM per chunk (concurrently) → SRT into S3."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from contracts import (
    ErrorCode,
    FixSrtOptions,
    FixSrtResult,
    LlmUsage,
    SummarizeOptions,
    SummaryResult,
    TranslateSrtOptions,
)
from services.common.errors import PermanentError, UnsupportedMedia
from services.common.metrics import S3_BYTES
from services.common.outputs import save_output
from services.common.storage import ObjectStore
from services.common.worker import JobCancelledError, JobContext, Outcome

from . import fixer, summary
from .llm import LlmClient, Usage
from .metrics import LLM_TOKENS


class LlmOutputInvalid(PermanentError):
    code = ErrorCode.LLM_OUTPUT_INVALID


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
        run = ctx.run
        model = options.model or self._model
        cues = fixer.parse(await self._read_text(run.input_key))
        chunks = fixer.chunk(cues, options.chunk_cues)
        usage = Usage()
        done = 0

        async def one(chunk_: fixer.Chunk) -> tuple[dict[str, str] | None, str | None]:
            nonlocal done
            reason = None
            for _ in range(2):  # one retry of a chunk whose answer fails validation
                if ctx.cancelled():
                    raise JobCancelledError
                text, used = await self._llm.complete(
                    model, fixer.messages(chunk_, prompt), options.temperature
                )
                usage.add(used)
                try:
                    texts = fixer.validate(text, chunk_)
                except fixer.InvalidAnswer as exc:
                    reason = str(exc)
                    continue
                done += 1
                ctx.report_progress(done / len(chunks))
                return texts, None
            done += 1
            ctx.report_progress(done / len(chunks))
            return None, reason

        # A cancel aborts the calls in flight, not only the ones still to come.
        answers = await ctx.cancellable(asyncio.gather(*(one(c) for c in chunks)))
        outcome = fixer.Outcome(cues=[])
        for chunk_, (texts, reason) in zip(chunks, answers, strict=True):
            fixer.apply(chunk_, texts, reason, outcome)
        LLM_TOKENS.labels(kind="prompt").inc(usage.prompt_tokens)
        LLM_TOKENS.labels(kind="completion").inc(usage.completion_tokens)
        if outcome.kept == len(cues):
            raise LlmOutputInvalid(
                f"no chunk of {len(cues)} cues got a valid answer: {outcome.warnings[0]}"
            )
        content = fixer.compose(outcome.cues)
        output = await save_output(
            self._store, run.job_id, name, "application/x-subrip", content.encode()
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
            usage=LlmUsage(
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                total_tokens=usage.prompt_tokens + usage.completion_tokens,
                cost_usd=usage.cost_usd,
            ),
        )
        return Outcome(result=result, outputs=[output], language=language)

    async def summarize(self, ctx: JobContext) -> Outcome:
        options = ctx.options(SummarizeOptions)
        model = options.model or self._model
        with tempfile.TemporaryDirectory(prefix="jetscribe-sum-") as tmp:
            path = Path(tmp) / "input"
            S3_BYTES.labels(direction="out").inc(
                await self._store.download(ctx.run.input_key, path)
            )
            data = path.read_bytes()
        try:
            pieces = summary.split(summary.text_of(data))
        except summary.NotATextSource as exc:
            raise UnsupportedMedia(str(exc)) from exc
        if not pieces:
            raise UnsupportedMedia("the input has no text to summarise")
        system = summary.prompt(
            options.max_words, options.style, options.language, options.system_prompt
        )
        usage = Usage()

        async def ask(msgs: list[dict[str, str]]) -> str:
            reason = ""
            for _ in range(2):  # one retry of an answer without a usable summary
                if ctx.cancelled():
                    raise JobCancelledError
                text, used = await self._llm.complete(model, msgs, options.temperature)
                usage.add(used)
                try:
                    return summary.validate(text)
                except fixer.InvalidAnswer as exc:
                    reason = str(exc)
            raise LlmOutputInvalid(f"no usable summary from the model: {reason}")

        parts = await ctx.cancellable(
            asyncio.gather(*(ask(summary.messages(system, text=p)) for p in pieces))
        )
        ctx.report_progress(0.9 if len(parts) > 1 else 1.0)
        final = (
            parts[0]
            if len(parts) == 1
            else await ask(summary.messages(system, summaries=list(parts)))
        )
        LLM_TOKENS.labels(kind="prompt").inc(usage.prompt_tokens)
        LLM_TOKENS.labels(kind="completion").inc(usage.completion_tokens)
        return Outcome(
            result=SummaryResult(summary=final, model=model, usage=_usage(usage)),
            language=options.language,
        )

    async def _read_text(self, key: str) -> str:
        with tempfile.TemporaryDirectory(prefix="jetscribe-srt-") as tmp:
            path = Path(tmp) / "input.srt"
            S3_BYTES.labels(direction="out").inc(await self._store.download(key, path))
            data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        try:
            fixer.parse(text)
        except fixer.SubtitleParseError as exc:
            raise UnsupportedMedia(str(exc)) from exc
        return text


def _usage(usage: Usage) -> LlmUsage:
    return LlmUsage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.prompt_tokens + usage.completion_tokens,
        cost_usd=usage.cost_usd,
    )
