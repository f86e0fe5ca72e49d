"""Reading a completed job's whole result and writing it where the plan says."""

from __future__ import annotations

from typing import Any

import httpx

from contracts import JobRecord

from ..client import AsyncClient
from ..errors import JetscribeError
from .outputs import content_of, write_text
from .plans import DOWNLOAD, Plan
from .tracking import Tracked


async def whole_result(job: JobRecord) -> dict[str, Any]:
    """The job's result, whole: the API answers with a summary and a presigned
    `full_result.url` for a result too large to give inline; it is read from there."""
    result = dict(job.result or {})
    ref = result.get("full_result")
    url = ref.get("url") if isinstance(ref, dict) else None
    if not isinstance(url, str):
        return result
    try:
        async with httpx.AsyncClient(timeout=120, follow_redirects=True) as http:
            response = await http.get(url)
    except httpx.TransportError as exc:
        raise JetscribeError.unreachable(url.split("?")[0], exc) from exc
    if response.is_error:
        raise JetscribeError.from_response(response)
    try:
        whole = response.json()
    except ValueError:
        whole = None
    if not isinstance(whole, dict):
        raise JetscribeError("unexpected_answer", f"job {job.id}: the full result is not an object")
    return {**whole, "full_result": None}


async def write_output(client: AsyncClient, t: Tracked, plan: Plan) -> None:
    """Write the completed job's result to `t.output` (re-read from the API: an event
    may carry only a summary of it)."""
    assert t.output is not None
    job = await client.get(t.job.id)
    t.job = job
    if plan.writes == DOWNLOAD:
        file_id = (job.result or {}).get("file_id")
        if not file_id:
            raise JetscribeError("no_output", f"job {job.id} completed without an output file")
        await client.download(str(file_id), t.output)
        return
    write_text(t.output, content_of(await whole_result(job), plan.writes))
