"""srt-fixer entry point: LLM subtitle fixing and translation through litellm."""

from __future__ import annotations

import os

import uvloop

from contracts import JobType
from services.common.logging import configure_logging
from services.common.startup import wait_for
from services.common.storage import ObjectStore
from services.common.tracing import configure_tracing
from services.common.worker_app import run_worker

from .jobs import SrtJobs
from .llm import LlmClient
from .settings import SrtFixerSettings


async def run(settings: SrtFixerSettings) -> None:
    store = ObjectStore(settings)
    await wait_for("s3", store.ensure_bucket)
    llm = LlmClient(
        settings.llm_api_base,
        settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        settings.max_llm_concurrency,
        settings.llm_timeout_s,
        settings.llm_attempts,
        settings.llm_backoff_s,
    )
    jobs = SrtJobs(llm, store, settings.llm_model)
    policy = settings.policy()
    await run_worker(
        "srt-fixer",
        settings,
        {
            JobType.FIX_SRT: jobs.fix_srt,
            JobType.TRANSLATE_SRT: jobs.translate_srt,
            JobType.SUMMARIZE: jobs.summarize,
        },
        policy,
        slots=settings.max_concurrent_jobs,  # I/O-bound: several jobs, LLM calls bounded
        ack_wait_s=settings.ack_wait_s,
        identity=settings.llm_model,  # the default; a job's own `model` option names itself
        store=store,
        shutdown_grace_s=settings.shutdown_grace_s,
    )


def main() -> None:
    # litellm otherwise fetches its price map from the network at import.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    settings = SrtFixerSettings()
    configure_logging("srt-fixer", settings.log_level, settings.log_json)
    configure_tracing("srt-fixer")
    uvloop.run(run(settings))


if __name__ == "__main__":
    main()
