"""litellm behind one small adapter: bounded concurrency, a timeout on every call, and
errors translated at the boundary — a transient one (429, 5xx, timeout, no connection)
as `LlmBusy`, which hands the job back to JetStream for a later attempt, a refusal as
`LlmUnavailable`, which fails it. No retry loop here (litellm's retries are off too):
JetStream redelivery is the one owner of retries."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from contracts import LlmUsage

from ..errors import LlmBusy, LlmUnavailable


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        if other.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + other.cost_usd

    def to_contract(self) -> LlmUsage:
        """As a job result reports it (with the total)."""
        return LlmUsage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            total_tokens=self.prompt_tokens + self.completion_tokens,
            cost_usd=self.cost_usd,
        )


class LlmClient:
    def __init__(
        self,
        api_base: str | None,
        api_key: str | None,
        concurrency: int,
        timeout_s: float,
    ) -> None:
        import litellm  # heavy (~3 s): imported here, in the one service that calls an LLM

        self._litellm = litellm
        self._api_base = api_base
        self._api_key = api_key
        self._slots = asyncio.Semaphore(concurrency)
        self._timeout = timeout_s

    async def complete(
        self, model: str, messages: list[dict[str, str]], temperature: float
    ) -> tuple[str, Usage]:
        return await self._call(model, messages, temperature)

    async def _call(
        self, model: str, messages: list[dict[str, str]], temperature: float
    ) -> tuple[str, Usage]:
        litellm = self._litellm
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "temperature": temperature,
            "timeout": self._timeout,
            "num_retries": 0,
            "response_format": {"type": "json_object"},
        }
        if self._api_base:
            kwargs["api_base"] = self._api_base
        if self._api_key:
            kwargs["api_key"] = self._api_key
        async with self._slots:
            try:
                response = await asyncio.wait_for(
                    litellm.acompletion(**kwargs), timeout=self._timeout + 5
                )
            except (
                litellm.RateLimitError,
                litellm.Timeout,
                litellm.APIConnectionError,
                litellm.InternalServerError,
                litellm.ServiceUnavailableError,
                TimeoutError,
            ) as exc:
                raise LlmBusy(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
            except (
                litellm.AuthenticationError,
                litellm.NotFoundError,
                litellm.BadRequestError,
                litellm.PermissionDeniedError,
            ) as exc:
                raise LlmUnavailable(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
            except litellm.APIError as exc:
                status = getattr(exc, "status_code", 500) or 500
                if status >= 500 or status == 429:
                    raise LlmBusy(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
                raise LlmUnavailable(f"{type(exc).__name__}: {str(exc)[:300]}") from exc
        text = response.choices[0].message.content or ""
        usage = getattr(response, "usage", None)
        cost = None
        try:
            cost = float(litellm.completion_cost(completion_response=response))
        except Exception:
            cost = None  # unknown model or price: no cost, not an error
        return text, Usage(
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=cost,
        )
