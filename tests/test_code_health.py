"""Code health, checked on every `make test` in a few seconds.

* layering: adapters/, metrics/ and db/ never import arena (arena imports them, not the other way round);
* ruff passes over the code and the tests;
* no module in the four packages grows past 400 lines;
* the light modules the CLI needs import neither torch, gradio, diffusers nor open_clip.

Each check is a function of a root folder, so a second test plants a violation in `tmp_path` and proves that the
check does fail on it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("adapters", "arena", "metrics", "db")
LOWER_LAYERS = ("adapters", "metrics", "db")
LINT_TARGETS = ("adapters", "arena", "metrics", "db", "tests", "benchmarks", "app.py")
MAX_LINES = 400
LIGHT_MODULES = ("adapters", "arena.settings", "db.models", "metrics")
HEAVY_MODULES = ("torch", "gradio", "diffusers", "open_clip")


def _python_files(root: Path, packages: Sequence[str]) -> Iterator[Path]:
    for package in packages:
        yield from sorted((root / package).rglob("*.py"))


def _imported_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, module) for every absolute import anywhere in the tree, lazy ones inside functions included.

    Also `importlib.import_module("x")` and `__import__("x")` with a literal name.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:  # relative imports stay inside their own package
                yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args:
            func, first = node.func, node.args[0]
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            literal = first.value if isinstance(first, ast.Constant) else None
            if name in ("import_module", "__import__") and isinstance(literal, str):
                yield node.lineno, literal


def layering_violations(root: Path, packages: Sequence[str] = LOWER_LAYERS, forbidden: str = "arena") -> list[str]:
    """`path:line imports module` for each import of `forbidden` (or a submodule) under `packages`."""
    found = []
    for path in _python_files(root, packages):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module in _imported_names(tree):
            if module == forbidden or module.startswith(forbidden + "."):
                found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return found


def ruff_problems(root: Path, targets: Sequence[str] = LINT_TARGETS) -> str:
    """Ruff's report when `ruff check` fails on `targets` (relative to `root`), else ''."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", *targets],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "" if done.returncode == 0 else (done.stdout + done.stderr).strip() or f"exit {done.returncode}"


def oversized_modules(
    root: Path, packages: Sequence[str] = PACKAGES, max_lines: int = MAX_LINES
) -> list[tuple[str, int]]:
    """(path, lines) of each module under `packages` longer than `max_lines`, longest first."""
    sizes = [
        (str(p.relative_to(root)), len(p.read_text(encoding="utf-8").splitlines()))
        for p in _python_files(root, packages)
    ]
    return sorted(((p, n) for p, n in sizes if n > max_lines), key=lambda item: -item[1])


def heavy_imports(
    root: Path, modules: Sequence[str] = LIGHT_MODULES, heavy: Sequence[str] = HEAVY_MODULES
) -> list[str]:
    """Which of `heavy` a fresh interpreter has loaded after importing `modules` (from `root`)."""
    code = (
        "import importlib, json, sys\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {list(heavy)!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"importing {', '.join(modules)} failed:\n{done.stderr}"
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


# ---- the project ------------------------------------------------------------------------------------------


def test_lower_layers_do_not_import_arena() -> None:
    assert layering_violations(ROOT) == []


def test_ruff_check_passes() -> None:
    problems = ruff_problems(ROOT)
    assert not problems, f"`ruff check` failed (fix with `make format`):\n{problems}"


def test_no_module_exceeds_the_size_limit() -> None:
    offenders = oversized_modules(ROOT)
    assert not offenders, f"modules over {MAX_LINES} lines (split them): " + ", ".join(
        f"{path} ({lines} lines)" for path, lines in offenders
    )


def test_light_modules_do_not_import_heavy_libraries() -> None:
    assert heavy_imports(ROOT) == [], "the CLI's light commands would pay for these imports"


# ---- each check fails on a planted violation --------------------------------------------------------------


def _plant(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_layering_check_finds_planted_imports(tmp_path: Path) -> None:
    _plant(tmp_path, "adapters/top.py", "import arena\n")
    _plant(tmp_path, "metrics/sub.py", "from arena.settings import Settings\n")
    _plant(tmp_path, "db/lazy.py", "def load():\n    import arena.services as s\n    return s\n")
    _plant(tmp_path, "db/dynamic.py", "import importlib\nimportlib.import_module('arena.api')\n")
    _plant(tmp_path, "db/fine.py", "import arenas\nfrom . import models\nfrom adapters import base\n")
    assert layering_violations(tmp_path) == [
        "adapters/top.py:1 imports arena",
        "metrics/sub.py:1 imports arena.settings",
        "db/dynamic.py:2 imports arena.api",
        "db/lazy.py:2 imports arena.services",
    ]


def test_ruff_check_fails_on_planted_problem(tmp_path: Path) -> None:
    _plant(tmp_path, "adapters/clean.py", "X = 1\n")
    assert ruff_problems(tmp_path, ["adapters"]) == ""
    _plant(tmp_path, "adapters/unused.py", "import os\n")
    assert "F401" in ruff_problems(tmp_path, ["adapters"])


def test_size_check_finds_planted_long_module(tmp_path: Path) -> None:
    _plant(tmp_path, "arena/short.py", "x = 1\n" * MAX_LINES)
    _plant(tmp_path, "metrics/long.py", "x = 1\n" * (MAX_LINES + 1))
    assert oversized_modules(tmp_path) == [("metrics/long.py", MAX_LINES + 1)]


def test_heavy_import_check_finds_planted_import(tmp_path: Path) -> None:
    _plant(tmp_path, "lightpkg/__init__.py", "from lightpkg import inner\n")
    _plant(tmp_path, "lightpkg/inner.py", "import heavything\n")
    _plant(tmp_path, "heavything.py", "")
    assert heavy_imports(tmp_path, ["lightpkg"], ["heavything", "json_not_loaded"]) == ["heavything"]
