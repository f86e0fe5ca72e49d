"""Settings of the srt-fixer."""

from __future__ import annotations

from pydantic import Field, SecretStr

from services.common.settings import WorkerSettings, renamed_env


class SrtFixerSettings(WorkerSettings):
    llm_model: str = Field(default="openai/gpt-4o-mini", description="Any litellm model string.")
    llm_api_base: str | None = Field(
        default=None, description="An OpenAI-compatible server (vLLM, Ollama, llama.cpp)."
    )
    llm_api_key: SecretStr | None = Field(
        default=None, description="Else the provider's own variable (OPENAI_API_KEY, ...)."
    )
    max_llm_concurrency: int = Field(default=8, ge=1, le=256, description="Calls at once.")
    llm_timeout_s: float = Field(default=60.0, gt=0)
    max_concurrent_jobs: int = renamed_env(
        "SRT_FIXER_MAX_CONCURRENT_JOBS",
        "MAX_CONCURRENT_JOBS",
        default=8,
        ge=1,
        le=64,
        description="Jobs at once per replica (I/O-bound; LLM calls bounded apart).",
    )
    max_deliver: int = Field(default=3, ge=1)
    health_port: int = 8084
