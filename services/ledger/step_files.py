"""Files a job reads besides the previous step's output, resolved to where their bytes
are. Pure.

A job's options may name files (a convert's `subtitles[].file_id`); the worker gets
them as `RunJob.attachments`. In a pipeline, a step may read the pipeline's input
(`input: {"from": "input"}`) or an earlier step's output (`{"from_step": N}`, also in
`subtitles`). Those references are replaced in the stored remaining steps as soon as
the file is known: the input's at submission, step N's when step N completes. A step's
stored dict then carries `source` (what it runs on) and `files` (what it attaches).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from contracts import AttachedFile, OutputFile

from .records import FileRow, InputFile


def named_file_ids(options: dict[str, Any]) -> list[UUID]:
    """The uploaded files `options` name by id (only convert's subtitles do)."""
    return [
        UUID(str(track["file_id"]))
        for track in options.get("subtitles") or []
        if isinstance(track, dict) and track.get("file_id")
    ]


def attachment(file_id: UUID, key: str, filename: str | None) -> dict[str, Any]:
    return {"file_id": str(file_id), "key": key, "filename": filename}


def attachments_of(options: dict[str, Any], found: dict[UUID, FileRow]) -> list[AttachedFile]:
    """What a job's own named files are, from the owner's file rows (all present)."""
    return [
        AttachedFile(file_id=f, key=found[f].object_key, filename=found[f].record.filename)
        for f in dict.fromkeys(named_file_ids(options))
    ]


def with_named_files(
    steps: list[dict[str, Any]], found: dict[UUID, FileRow]
) -> list[dict[str, Any]]:
    """The steps, each with the uploaded files its options name by id as its `files`."""
    out = []
    for step in steps:
        files = attachments_of(step.get("options") or {}, found)
        out.append({**step, "files": [f.model_dump(mode="json") for f in files]} if files else step)
    return out


def with_pipeline_input(steps: list[dict[str, Any]], file: InputFile) -> list[dict[str, Any]]:
    """The steps that run on the pipeline's input, given that file as their `source`."""
    source = {"file_id": str(file.id), "key": file.key, "filename": file.filename}
    return [
        {**s, "source": {**source, "sha256": file.sha256}}
        if (s.get("input") or {}).get("from") == "input"
        else s
        for s in steps
    ]


def after_completion(
    remaining: list[dict[str, Any]], index: int, output: OutputFile
) -> list[dict[str, Any]]:
    """The remaining steps once step `index` made `output`: references to it resolved."""
    ref = attachment(output.id, output.object_key, output.filename)
    out = []
    for step in remaining:
        step = dict(step)
        if (step.get("input") or {}).get("from_step") == index:
            step["source"] = {**ref, "sha256": output.sha256}
        tracks = (step.get("options") or {}).get("subtitles")
        if tracks and any(t.get("from_step") == index for t in tracks):
            step["options"] = {
                **step["options"],
                "subtitles": [
                    {**t, "file_id": ref["file_id"], "from_step": None}
                    if t.get("from_step") == index
                    else t
                    for t in tracks
                ],
            }
            files = step.get("files") or []
            step["files"] = files if ref in files else [*files, ref]
        out.append(step)
    return out


def source_of(step: dict[str, Any], previous: OutputFile | None) -> InputFile | None:
    """What a step runs on: its resolved `source`, else the previous step's output (a
    step after one that made no file, such as `summarize`, must name its `input`)."""
    src = step.get("source")
    if src:
        return InputFile(UUID(src["file_id"]), src["key"], src.get("filename"), src.get("sha256"))
    if previous is None:
        return None
    return InputFile(previous.id, previous.object_key, previous.filename, previous.sha256)


def attached(step: dict[str, Any]) -> list[AttachedFile]:
    return [AttachedFile.model_validate(f) for f in step.get("files") or []]
