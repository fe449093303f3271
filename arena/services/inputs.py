"""Checks of untrusted text and ids, shared by the JSON API, the Gradio events and the services.

Every refusal is a :class:`Refusal` whose reason never repeats the input (it may be huge or hostile).
"""

from __future__ import annotations

import re
import unicodedata

from arena.services.views import Refusal

MAX_PROMPT_CHARS = 1000
MAX_DB_INT = 2**31 - 1  # ids are 32-bit integers in every database we support
# Control characters a prompt may not hold (tab, newline and carriage return are fine); NUL also breaks Postgres.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Text-direction overrides and isolates: a prompt could show one text and hold another (U+202E reverses it).
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,48}$")


def clean_text(value: str, *, what: str = "the prompt", max_chars: int = MAX_PROMPT_CHARS) -> str:
    """``value`` stripped, or a Refusal: empty (or only invisible format marks such as zero-width spaces), too
    long, control characters, text-direction controls, or not encodable as UTF-8 (a lone surrogate from JSON
    ``"\\ud800"``)."""
    if not isinstance(value, str):
        raise Refusal("invalid", f"{what} must be text", 400)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Refusal("invalid", f"{what} is not valid Unicode text (lone surrogate)", 400) from exc
    value = value.strip()
    if all(c.isspace() or unicodedata.category(c) == "Cf" for c in value):  # nothing or only invisible marks
        raise Refusal("invalid", f"{what} is empty", 400)
    if len(value) > max_chars:
        raise Refusal("invalid", f"{what} is longer than {max_chars} characters", 400)
    if _CONTROL.search(value):
        raise Refusal("invalid", f"{what} contains control characters", 400)
    if _BIDI.search(value):
        raise Refusal("invalid", f"{what} contains text-direction controls", 400)
    return value


def prompt_key(text: str) -> str:
    """A prompt's text as compared with the suite's: NFKC, casefolded, invisible format marks and punctuation
    dropped, whitespace collapsed ("A red  ball." and "a red ball" are one prompt)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(" " if unicodedata.category(c)[0] == "P" else c for c in folded if unicodedata.category(c) != "Cf")
    return " ".join(kept.split())


def is_token(value: str) -> bool:
    """A battle id or media token as we make them (URL-safe, at most 48 characters)."""
    return bool(_TOKEN.match(value))


def check_db_int(value: int, *, what: str) -> int:
    if not 1 <= value <= MAX_DB_INT:
        raise Refusal("invalid", f"{what} must be between 1 and {MAX_DB_INT}", 400)
    return value
