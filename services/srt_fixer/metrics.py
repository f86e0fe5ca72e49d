"""Prometheus metrics of the srt-fixer."""

from prometheus_client import Counter

LLM_TOKENS = Counter("jetscribe_llm_tokens_total", "LLM tokens used", ["kind"])
