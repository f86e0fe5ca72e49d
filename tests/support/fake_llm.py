"""A scriptable OpenAI-compatible chat server for the tests (real HTTP, reached by litellm
through `api_base`). Each test sets `server.behaviour`; calls are counted."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.common.http import QuietServer
from tests.support.http_server import serve_in_thread


def fix_typos(text: str) -> str:
    return text.replace("teh", "the").replace("recieve", "receive")


@dataclass
class FakeLlm:
    behaviour: str = "fix"
    calls: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    delay_s: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def answer(self, cues: dict[str, str], call: int) -> tuple[int, str]:
        b = self.behaviour
        if b == "fix" or (b == "rate_limit_once" and call > 1):
            return 200, json.dumps({k: fix_typos(v) for k, v in cues.items()})
        if b == "rate_limit_once":
            return 429, ""
        if b == "first_chunk_bad":
            first = any(v.endswith("cue number 1 we recieve") for v in cues.values())
            return 200, "no" if first else json.dumps({k: fix_typos(v) for k, v in cues.items()})
        if b == "upper":
            return 200, json.dumps({k: v.upper() for k, v in cues.items()})
        if b == "fenced":
            return 200, "```json\n" + json.dumps(
                {k: fix_typos(v) for k, v in cues.items()}
            ) + "\n```"
        if b == "garbage":
            return 200, "Sure! Here are your subtitles, nicely fixed."
        if b == "wrong_indices":
            return 200, json.dumps({str(int(k) + 1): v for k, v in cues.items()})
        if b == "missing":
            return 200, json.dumps(dict(list(cues.items())[:-1]))
        if b == "timing":
            return 200, json.dumps(
                {k: f"00:00:01,000 --> 00:00:02,000 {v}" for k, v in cues.items()}
            )
        if b == "auth":
            return 401, ""
        if b == "server_error":
            return 503, ""
        raise AssertionError(f"unknown behaviour {b}")

    def summarise(self, user: dict[str, Any]) -> tuple[int, str]:
        if self.behaviour == "garbage":
            return 200, "Here is a summary for you."
        if "summaries" in user:
            return 200, json.dumps({"summary": "COMBINED: " + " / ".join(user["summaries"])})
        words = user["text"].split()
        return 200, json.dumps({"summary": f"{len(words)} words starting {words[0]}"})

    async def chat(self, request: Request) -> Response:
        self.calls += 1
        call = self.calls
        body = await request.json()
        self.bodies.append(body)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.behaviour == "hang":  # until the client gives up (or 30 s)
                for _ in range(600):
                    if await request.is_disconnected():
                        return Response(status_code=499)
                    # Hanging is this behaviour's point; the short sleep only sets how
                    # soon the server notices the client went away.
                    await asyncio.sleep(0.05)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)  # a slow model, when a test asks for one
        finally:
            self.in_flight -= 1
        user = json.loads(body["messages"][-1]["content"])
        if "cues" in user:
            status, content = self.answer(user["cues"], call)
        else:
            status, content = self.summarise(user)
        if status != 200:
            return JSONResponse(
                {"error": {"message": f"scripted {status}", "type": "x", "code": status}},
                status_code=status,
            )
        return JSONResponse(
            {
                "id": f"cmpl-{call}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
            }
        )

    def serve(self) -> QuietServer:
        server, self.port = serve_in_thread(
            Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])
        )
        return server
