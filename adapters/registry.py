"""A small generic registry: a name maps to a class, or to a lazy ``"module:Attr"`` string.

Used by every extension point (adapter kinds, metrics). Lazy strings keep heavy imports (torch,
diffusers, open_clip) out of start-up: the module is imported only when the name is first resolved.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """A name that no entry of the registry has; the message lists close matches and what exists."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain sentence
        return str(self.args[0])


class Registry(Generic[T]):
    """Maps names to subclasses of ``base`` (or to ``"module:Attr"`` strings resolved on first use)."""

    def __init__(self, what: str, base: type[Any]) -> None:
        # `type[Any]`, not `type[T]`: bases are abstract, and mypy accepts only concrete classes for `type[T]`
        # (declare the registry as `Registry[Base]`).
        self.what = what
        self.base = base
        self._entries: dict[str, type[T] | str] = {}

    def register(self, name: str, target: type[T] | str | None = None):  # type: ignore[no-untyped-def]
        """Register ``target`` under ``name``; without a target, return a class decorator."""
        if target is not None:
            self._add(name, target)
            return target

        def decorator(cls: type[T]) -> type[T]:
            self._add(name, cls)
            return cls

        return decorator

    def _add(self, name: str, target: type[T] | str) -> None:
        if name in self._entries and self._entries[name] != target:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        if isinstance(target, str) and ":" not in target:
            raise ValueError(f"lazy {self.what} {name!r} must be 'module:Attr', got {target!r}")
        self._entries[name] = target

    def get(self, name: str) -> type[T]:
        if name not in self._entries:
            close = difflib.get_close_matches(name, self._entries, n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UnknownNameError(
                f"unknown {self.what} {name!r}.{hint} Known: {', '.join(sorted(self._entries)) or 'none'}."
            )
        target = self._entries[name]
        if isinstance(target, str):
            module_name, attr = target.split(":", 1)
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise ImportError(
                    f"{self.what} {name!r} needs {module_name!r}, which failed to import: {exc}. "
                    "Install the project with `make install` (or `pip install -e .`)."
                ) from exc
            resolved = getattr(module, attr, None)
            if resolved is None:
                raise ImportError(f"{self.what} {name!r}: module {module_name!r} has no attribute {attr!r}")
            if not (isinstance(resolved, type) and issubclass(resolved, self.base)):
                raise TypeError(f"{self.what} {name!r} -> {target} is not a subclass of {self.base.__name__}")
            self._entries[name] = resolved
            return resolved
        return target

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
