"""Domain packages talk to each other through the core only (issue 13: no domain cycles).

A package under portal/blueprints/ may import the core (portal.*), its own modules, and other domains'
*models*; another domain's services only through the named core contracts below; never another
domain's routes, forms or anything else. No ``except ImportError`` guards: every package is present.
"""
from __future__ import annotations

import ast
from pathlib import Path

import portal

BLUEPRINTS = Path(portal.__file__).resolve().parent / "blueprints"
# (module, name) pairs a domain may import from another domain besides its models.
CONTRACTS = {
    ("portal.blueprints.customers.services", "customer_choices"),
    ("portal.blueprints.admin.services", "staff_choices"),
    ("portal.blueprints.admin.services", "department_choices"),
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(BLUEPRINTS.parent.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path):
    """(line, absolute module, imported names or None) of every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [a.name for a in node.names]
            yield node.lineno, target, names
            if node.module is None:  # from .. import services: each name is a module
                for name in names:
                    yield node.lineno, f"{target}.{name}", None


def _domain(module: str) -> str | None:
    parts = module.split(".")
    if parts[:2] == ["portal", "blueprints"] and len(parts) >= 3:
        return parts[2]
    return None


def _files():
    return sorted(p for p in BLUEPRINTS.rglob("*.py") if p.parent != BLUEPRINTS)


def test_domains_import_other_domains_only_through_models_and_core_contracts():
    files = _files()
    assert len(files) > 20
    failures = []
    for path in files:
        own = _domain(_module_name(path))
        for line, target, names in _imports(path):
            other = _domain(target)
            if other is None or other == own or target == f"portal.blueprints.{other}":
                continue
            if target.split(".")[3:4] == ["models"]:
                continue
            if names is not None and all((target, n) in CONTRACTS for n in names):
                continue
            what = f"{target} ({', '.join(names)})" if names else target
            failures.append(f"{path.relative_to(BLUEPRINTS.parent.parent)}:{line} imports {what}")
    assert not failures, "\n".join(failures)


def test_no_import_error_guards_in_the_blueprints():
    failures = []
    for path in _files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
                if any(isinstance(c, ast.Name) and c.id in ("ImportError", "ModuleNotFoundError") for c in caught):
                    failures.append(f"{path.relative_to(BLUEPRINTS.parent.parent)}:{node.lineno}")
    assert not failures, "except ImportError guards:\n" + "\n".join(failures)
