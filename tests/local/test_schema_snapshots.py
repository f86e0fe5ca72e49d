"""The committed JSON Schema files (read from disk) match a fresh export of the models."""

from __future__ import annotations

from contracts.schema_export import SCHEMA_DIR, render


def test_committed_schemas_match_the_models() -> None:
    """A change to any contract shows up here: run `make schemas` and review the diff."""
    rendered = render()
    committed = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.json")}
    assert set(committed) == set(rendered), "schema files added or removed: run make schemas"
    for name, text in rendered.items():
        assert committed[name] == text, f"{name} changed: run `make schemas` and review it"
