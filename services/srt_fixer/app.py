"""The srt-fixer's wiring: LLM subtitle fixing, translation and summaries through litellm."""

from __future__ import annotations

from contracts import JobType
from services.common.adapters.s3 import ObjectStore
from services.common.startup import wait_for
from services.common.worker_app import run_worker

from .adapters.llm import LlmClient
from .handlers import SrtJobs
from .settings import SrtFixerSettings


async def run(settings: SrtFixerSettings) -> None:
    store = ObjectStore(settings)
    await wait_for("s3", store.ensure_bucket)
    llm = LlmClient(
        settings.llm_api_base,
        settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        settings.max_llm_concurrency,
        settings.llm_timeout_s,
    )
    jobs = SrtJobs(llm, store, settings.llm_model)
    await run_worker(
        "srt-fixer",
        settings,
        {
            JobType.FIX_SRT: jobs.fix_srt,
            JobType.TRANSLATE_SRT: jobs.translate_srt,
            JobType.SUMMARIZE: jobs.summarize,
        },
        identity=settings.llm_model,  # the default; a job's own `model` option names itself
        store=store,
    )
