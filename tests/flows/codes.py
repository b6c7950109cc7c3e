"""Find every DomainError code the code base can raise (for the catalog tests)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import domain.errors as errors

ROOT = Path(__file__).resolve().parents[2]
ERROR_CLASSES = {
    name
    for name, obj in vars(errors).items()
    if inspect.isclass(obj) and issubclass(obj, errors.DomainError)
} - {"IllegalTransition"}  # its first argument is the entity, not a code


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def raised_codes(folders: tuple[str, ...] = ("domain", "handlers")) -> dict[str, str]:
    """{code: "file:line"} for literal codes given to error classes, plus the
    "<what>_not_found" codes of usecases.common.load(repo, key, "what")."""
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            classes = ERROR_CLASSES | _subclasses(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    found.update(_class_code(node, path))
                if not isinstance(node, ast.Call):
                    continue
                name = _name(node.func)
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                first = node.args[0] if node.args else None
                if name in classes and isinstance(first, ast.Constant):
                    if isinstance(first.value, str):
                        found.setdefault(first.value, where)
                if name in ("load", "lock_all") and len(node.args) >= 3:
                    what = node.args[2]
                    if isinstance(what, ast.Constant) and isinstance(what.value, str):
                        found.setdefault(f"{what.value}_not_found", where)
    for cls in vars(errors).values():
        if inspect.isclass(cls) and issubclass(cls, errors.DomainError):
            found.setdefault(cls.code, "domain/errors.py")
    return found


def _subclasses(tree: ast.Module) -> set[str]:
    """Error classes a module defines itself (e.g. handlers.callbacks.StaleButton)."""
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and any(_name(b) in ERROR_CLASSES for b in node.bases)
    }


def _class_code(node: ast.ClassDef, path: Path) -> dict[str, str]:
    """`code = "…"` in the body of a DomainError subclass."""
    if not any(_name(b) in ERROR_CLASSES for b in node.bases):
        return {}
    out = {}
    for stmt in node.body:
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "code" for t in stmt.targets)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        ):
            out[stmt.value.value] = f"{path.relative_to(ROOT)}:{stmt.lineno}"
    return out
