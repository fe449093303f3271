"""A prompt suite: prompts with a stable id, a main category, tags, and their texts in English and/or Chinese."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.errors import ConfigError

LANGUAGES = ("en", "zh")
ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,120}$"
SUITE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class SuitePrompt(BaseModel):
    """One prompt; its translations share the id (the database's prompt key)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN)
    category: str = Field(default="general", min_length=1, max_length=64)
    tags: list[str] = Field(default_factory=list)
    en: str | None = Field(default=None, min_length=1, max_length=2000)
    zh: str | None = Field(default=None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _has_text(self) -> SuitePrompt:
        if not (self.en or self.zh):
            raise ValueError(f"prompt {self.id!r} has no text (give en and/or zh)")
        return self

    def texts(self) -> dict[str, str]:
        return {lang: text for lang, text in (("en", self.en), ("zh", self.zh)) if text}


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suite: str = Field(pattern=SUITE_NAME_PATTERN)
    description: str = ""
    prompts: list[SuitePrompt]

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        repeated = [key for key, n in Counter(p.id for p in self.prompts).items() if n > 1]
        if repeated:
            raise ValueError(f"duplicate prompt ids: {', '.join(sorted(repeated)[:5])}")
        return self

    def categories(self) -> dict[str, int]:
        """Prompts per main category, in order of first appearance."""
        return dict(Counter(p.category for p in self.prompts))

    def languages(self) -> list[str]:
        return [lang for lang in LANGUAGES if any(lang in p.texts() for p in self.prompts)]

    def select(self, categories: list[str] | None = None, limit: int | None = None) -> Suite:
        """The prompts of these categories (main category or tag), at most ``limit`` of them."""
        wanted = set(categories or [])
        chosen = [p for p in self.prompts if not wanted or p.category in wanted or wanted & set(p.tags)]
        if wanted and not chosen:
            raise ConfigError(
                f"suite {self.suite!r} has no prompt in {', '.join(sorted(wanted))}; "
                f"categories: {', '.join(self.categories())}"
            )
        return self.model_copy(update={"prompts": chosen[:limit] if limit else chosen})


def prompt_id(text: str) -> str:
    """A stable id for a prompt that came without one: a readable slug of its text plus a short hash."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].strip("-")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return f"{slug}-{digest}" if slug else f"p-{digest}"


def suite_name(text: str) -> str:
    """A valid suite name made from a file name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:64]
    return name or "suite"
