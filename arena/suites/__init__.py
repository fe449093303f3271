"""Prompt suites: the built-in suites shipped as package data (``arena/suites/data/*.yaml``) and loaders for
prompt files of other formats (VBench lists, plain text, JSONL, CSV), all returning one :class:`Suite`."""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path

from adapters.errors import ConfigError
from arena.suites.formats import SuiteFormat, guess_format, suite_formats
from arena.suites.model import Suite, SuitePrompt, prompt_id

__all__ = [
    "Suite",
    "SuiteFormat",
    "SuitePrompt",
    "builtin_path",
    "builtin_suites",
    "load_suite",
    "prompt_id",
    "resolve_suite",
]


def _data_dir() -> Path:
    return Path(str(resources.files("arena.suites") / "data"))


def builtin_suites() -> dict[str, Path]:
    """Name -> file of every suite shipped with the package."""
    return {path.stem: path for path in sorted(_data_dir().glob("*.yaml"))}


def builtin_path(name: str) -> Path:
    return _data_dir() / f"{name}.yaml"


def load_suite(path: str | Path, format: str | None = None, name: str | None = None) -> Suite:
    """Read a prompt file (format from ``format`` or the file name); errors name the file."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: prompt suite not found")
    reader = suite_formats().get(format or guess_format(path))()
    try:
        return reader.read(path, name)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read prompt suite: {exc}") from exc


def resolve_suite(ref: str, format: str | None = None, name: str | None = None) -> Suite:
    """A built-in suite by name, or a prompt file by path."""
    builtins = builtin_suites()
    if ref in builtins and not Path(ref).exists():
        return load_suite(builtins[ref], "yaml", name)
    if Path(ref).exists():
        return load_suite(ref, format, name)
    close = difflib.get_close_matches(ref, builtins, n=2)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ConfigError(f"no suite {ref!r}: not a built-in suite ({', '.join(builtins)}) nor a file.{hint}")
