"""The typed-prompt moderation hook: a block-list file and an optional callable, both from the settings.

* Block list: one word or phrase per line (``#`` starts a comment); a prompt containing one (case-insensitive,
  after Unicode NFKC normalisation, so full-width and styled letters match too) is refused. The file is read
  again when it changes, so it can be edited while the arena runs.
* Callable: ``"package.module:function"``, called with the prompt; it returns None to accept or a reason to refuse
  (shown to the person). If it raises, the prompt is refused: an unchecked prompt is never generated.
"""

from __future__ import annotations

import importlib
import logging
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path

from arena.services.views import Refusal

log = logging.getLogger(__name__)

Checker = Callable[[str], str | None]


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def load_checker(target: str) -> Checker:
    """Import ``module:attr`` (attr may be dotted); a clear ValueError when it cannot be used."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"moderation hook {target!r} must look like 'package.module:function'")
    try:
        obj: object = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"moderation hook {target!r} cannot be loaded: {exc}") from exc
    if not callable(obj):
        raise ValueError(f"moderation hook {target!r} is not callable")
    return obj  # type: ignore[return-value]


class Moderation:
    def __init__(self, blocklist: Path | None = None, hook: str | None = None) -> None:
        self.blocklist = blocklist
        self.checker = load_checker(hook) if hook else None
        if blocklist is not None and not blocklist.is_file():
            raise ValueError(f"moderation block list {blocklist} not found")
        self._lock = threading.Lock()
        self._terms: tuple[str, ...] = ()
        self._mtime: tuple[int, int] | None = None  # (mtime, size) of the list read last

    def terms(self) -> tuple[str, ...]:
        if self.blocklist is None:
            return ()
        try:
            stat = self.blocklist.stat()
        except FileNotFoundError:
            return self._terms  # removed while running: keep the last list rather than let everything through
        mtime = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if mtime != self._mtime:
                lines = self.blocklist.read_text(encoding="utf-8").splitlines()
                self._terms = tuple(t for t in (_fold(line.split("#", 1)[0].strip()) for line in lines) if t)
                self._mtime = mtime
            return self._terms

    def __call__(self, prompt: str) -> None:
        """Refuse (Refusal "moderated", 422) a prompt the block list or the callable turns down."""
        folded = _fold(prompt)
        if any(term in folded for term in self.terms()):
            raise Refusal("moderated", "this prompt contains a word this arena does not accept", 422)
        if self.checker is None:
            return
        try:
            verdict = self.checker(prompt)
        except Exception:
            log.exception("the moderation hook failed; refusing the prompt")
            raise Refusal("moderated", "this prompt could not be checked; try another one", 422) from None
        if verdict:
            raise Refusal("moderated", f"this prompt is not accepted here: {verdict}", 422)
