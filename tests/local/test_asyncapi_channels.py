"""The AsyncAPI document names the channels the code really uses, and only those.

The services' source is read (ast) for every use of a subject from `contracts.subjects`
and the call it sits in: publishing (`publish`, `request`, an outbox message, the
gateway's ledger calls) or subscribing (`subscribe`, `subscriber`, `pull_subscribe`, a
consumer's `filter_subject`, the ledger's request-reply route table). Every channel of
the document must have a publisher and a subscriber in the code — except `jobs.submit`,
whose publishers are the upstream systems — and every subject the code uses must be a
channel of the document.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from contracts import subjects
from contracts.schema_export import asyncapi

SERVICES = Path(__file__).resolve().parents[2] / "services"
EXTERNAL_PUBLISHERS = {subjects.JOBS_SUBMIT}  # upstream systems publish SubmitJob here

# Names in contracts.subjects → the channel address they belong to.
ADDRESS = {
    "JOBS_SUBMIT": subjects.JOBS_SUBMIT,
    "JOBS_RUN_ALL": "jobs.run.{type}",
    "run_subject": "jobs.run.{type}",
    "JOBS_EVENTS_ALL": "jobs.events.{job_id}",
    "events_subject": "jobs.events.{job_id}",
    "JOBS_DEAD_ALL": "jobs.dead.{consumer}",
    "dead_letter_subject": "jobs.dead.{consumer}",
    **{
        name: getattr(subjects, name)
        for name in dir(subjects)
        if name.startswith("LEDGER_") and isinstance(getattr(subjects, name), str)
    },
}
PUBLISHING = ("publish", "request", "OutboxMessage", "_call", "call")
SUBSCRIBING = ("subscribe", "subscriber", "pull_subscribe")


def _subject_names(node: ast.AST) -> list[str]:
    """`subjects.X` and `subjects.f(...)` references inside `node`."""
    return [
        n.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and n.value.id == "subjects"
        and n.attr in ADDRESS
    ]


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def uses() -> dict[str, dict[str, set[str]]]:
    """address → role ("publish" / "subscribe") → the modules that do it."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(SERVICES.rglob("*.py")):
        module = str(path.relative_to(SERVICES.parent))
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            role = None
            target: ast.AST = node
            if isinstance(node, ast.Call):
                name = _callee(node)
                if name.endswith(SUBSCRIBING):
                    role = "subscribe"
                elif name.endswith(PUBLISHING) or name.startswith(PUBLISHING):
                    role = "publish"
                target = ast.Tuple(elts=[*node.args, *(k.value for k in node.keywords)])
                for kw in node.keywords:
                    if kw.arg == "filter_subject":
                        for sub in _subject_names(kw.value):
                            found[ADDRESS[sub]]["subscribe"].add(module)
            elif isinstance(node, ast.FunctionDef) and node.name == "routes":
                role = "subscribe"  # the ledger's request-reply table: (subject, …) per route
            if role is None:
                continue
            for sub in _subject_names(target):
                found[ADDRESS[sub]][role].add(module)
    return found


def test_every_channel_has_a_publisher_and_a_subscriber_in_the_code() -> None:
    found = uses()
    for channel in asyncapi()["channels"].values():
        address = channel["address"]
        assert found[address]["subscribe"], f"{address}: no subscriber in services/"
        if address not in EXTERNAL_PUBLISHERS:
            assert found[address]["publish"], f"{address}: no publisher in services/"


def test_every_subject_the_code_uses_is_in_the_document() -> None:
    documented = {c["address"] for c in asyncapi()["channels"].values()}
    assert set(uses()) <= documented, set(uses()) - documented


def test_the_scan_sees_the_known_paths() -> None:
    """The scan itself works: a few uses that exist for sure are found with their role."""
    found = uses()
    assert any("ledger" in m for m in found["jobs.run.{type}"]["publish"])
    assert found["jobs.run.{type}"]["subscribe"]
    assert any("gateway" in m for m in found[subjects.LEDGER_JOBS_CREATE]["publish"])
    assert any("ledger" in m for m in found[subjects.LEDGER_JOBS_CREATE]["subscribe"])
