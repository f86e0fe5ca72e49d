"""What a pipeline's steps may read: the previous step's output by default, or, named in
`input` and in a convert's `subtitles`, the pipeline's input or an earlier step's output.
Checked at submission, so a chain that cannot work is refused before anything runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .commands import PipelineStep
from .enums import JobType

# What each job type reads and writes.
_MEDIA, _SUBTITLES, _TRANSCRIPT, _NOTHING = "media", "subtitles", "a transcript", "nothing"
OUTPUT_KIND: dict[JobType, str] = {
    JobType.CONVERT: _MEDIA,
    JobType.GENERATE_SRT: _SUBTITLES,
    JobType.TRANSCRIBE: _TRANSCRIPT,
    JobType.FIX_SRT: _SUBTITLES,
    JobType.TRANSLATE_SRT: _SUBTITLES,
    JobType.SUMMARIZE: _NOTHING,
    JobType.BATCH: _NOTHING,
}
INPUT_KINDS: dict[JobType, frozenset[str]] = {
    JobType.CONVERT: frozenset({_MEDIA}),
    JobType.GENERATE_SRT: frozenset({_MEDIA}),
    JobType.TRANSCRIBE: frozenset({_MEDIA}),
    JobType.FIX_SRT: frozenset({_SUBTITLES}),
    JobType.TRANSLATE_SRT: frozenset({_SUBTITLES}),
    JobType.SUMMARIZE: frozenset({_TRANSCRIPT, _SUBTITLES}),
    JobType.BATCH: frozenset(),
}


def check_pipeline(
    first: JobType, first_options: dict[str, Any], then: Sequence[PipelineStep]
) -> None:
    """Raise ValueError naming the first reference or step that cannot work.

    Steps are numbered as on the job (`steps[].index`): 0 is the top-level job, then[i]
    is step i + 1. A step may name only steps before it.
    """
    types = [first, *(step.type for step in then)]
    _check_subtitle_refs(types, 0, first_options, "options")
    for i, step in enumerate(then):
        index, where = i + 1, f"then[{i}]"
        source = index - 1 if step.input is None else step.input.from_step
        if source is not None:
            if source >= index:
                raise ValueError(f"{where}.input.from_step: {source} is not a step before {index}")
            produced = OUTPUT_KIND[types[source]]
            if produced not in INPUT_KINDS[step.type]:
                raise ValueError(
                    f"{where}: {step.type.value} cannot run on the output of "
                    f"{types[source].value} ({produced})"
                )
        elif not INPUT_KINDS[first] & INPUT_KINDS[step.type]:
            raise ValueError(
                f"{where}: {step.type.value} cannot run on the pipeline's input "
                f"(what {first.value} reads)"
            )
        _check_subtitle_refs(types, index, step.options, f"{where}.options")


def _check_subtitle_refs(
    types: list[JobType], index: int, options: dict[str, Any], where: str
) -> None:
    if types[index] is not JobType.CONVERT:
        return
    for n, track in enumerate(options.get("subtitles") or []):
        source = track.get("from_step") if isinstance(track, dict) else None
        if source is None:
            continue
        at = f"{where}.subtitles[{n}].from_step"
        if source >= index:
            raise ValueError(f"{at}: {source} is not a step before {index}")
        if OUTPUT_KIND[types[source]] != _SUBTITLES:
            raise ValueError(f"{at}: step {source} ({types[source].value}) makes no subtitles")
