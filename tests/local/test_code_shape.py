"""Modules and functions stay small enough to read (services/ and contracts/).

Hard limits: a module of at most 400 lines, a function of at most 80 (the aim is 300
and 60). A function may be longer only if its first line is a comment saying why,
starting `# long:`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE_LINES = 400
FUNCTION_LINES = 80


def sources() -> list[Path]:
    return sorted(p for d in ("services", "contracts") for p in (ROOT / d).rglob("*.py"))


def test_no_module_is_over_the_limit() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in sources()
        if (n := len(p.read_text().splitlines())) > MODULE_LINES
    }
    assert not long, f"modules over {MODULE_LINES} lines (split them along their concepts)"


def test_no_function_is_over_the_limit_unless_it_says_why() -> None:
    long = []
    for path in sources():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            first = lines[node.body[0].lineno - 2].strip() if node.body else ""
            if length > FUNCTION_LINES and not first.startswith("# long:"):
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length})")
    assert not long, long
