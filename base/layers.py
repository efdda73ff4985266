"""Layer check (DESIGN.md §3): a module imports only itself and what it depends on.

Static: reads the source with `ast`, so a conditional or function-level import is caught
as well. Used by tests/base/test_layers.py; `lint-imports` (import-linter) checks the same
contract in CI.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    module: str
    imported: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: '{self.module}' imports '{self.imported}'"


def _imported_names(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def upward_imports(root: Path, allowed: Mapping[str, set[str]]) -> list[Violation]:
    """Every import under `root/<module>/` of a project module outside `allowed[module]`.

    `allowed` maps each module to the modules it may import (itself excluded: always allowed).
    """
    violations = []
    modules = set(allowed)
    for module in sorted(modules):
        for path in sorted((root / module).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, name in _imported_names(tree):
                top = name.split(".", 1)[0]
                if top in modules and top != module and top not in allowed[module]:
                    violations.append(Violation(path, line, module, name))
    return violations
