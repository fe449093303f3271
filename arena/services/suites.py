"""Syncing prompt suites and the models file into the database, and the rows of typed prompts."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from adapters.config import ModelCatalog
from adapters.errors import ConfigError
from adapters.language import guess_language
from arena.services.inputs import prompt_key
from arena.services.views import PromptJSON, Refusal
from arena.suites import Suite
from db.models import Model, Prompt
from db.session import transaction

USER_SUITE = "user"


def detect_language(text: str) -> str:
    """The language of a typed prompt (ISO 639-1), from its script."""
    return guess_language(text)


def check_language(session: Session, language: str | None) -> None:
    """Refuse (422, never echoing it) a language filter that no suite prompt of this arena has: an unknown
    language is the client's mistake, not a server that has run out of prompts."""
    if language is None:
        return
    query = select(Prompt.language).where(Prompt.suite != USER_SUITE).distinct()
    known = sorted(session.scalars(query))
    if known and language not in known:
        reason = f"language: no suite prompts in this language (this arena has {', '.join(known)})"
        raise Refusal("invalid", reason, 422)


NAMED_TYPED_ONLY = "the suite's prompts are kept for anonymous battles"
POOL_PROMPT = (
    "this prompt is one of the arena's anonymous battle prompts; named battles and the Playground take other "
    "prompts (a named clip of it would show a model's look on the very prompt its anonymous clips are voted on)"
)


POOL_PROMPT_TYPED = (
    "this prompt is one of the arena's suite prompts: choose it from the prompt list (a typed prompt is generated "
    "afresh and its models named after the vote)"
)


def refuse_pool_prompt(session: Session, text: str, *, named: bool = True) -> None:
    """Refuse (403 ``pool_prompt``) a typed text that is a suite prompt once normalised (see ``prompt_key``): the
    suite's prompts are the anonymous pool's, and no route that names models makes new clips of them."""
    key = prompt_key(text)
    if any(prompt_key(t) == key for t in session.scalars(select(Prompt.text).where(Prompt.suite != USER_SUITE))):
        raise Refusal("pool_prompt", POOL_PROMPT if named else POOL_PROMPT_TYPED, 403)


def sync_suite(session: Session, suite: Suite) -> int:
    """Insert the suite's prompts that are missing; update category/text of existing ones. Returns the count."""
    if suite.suite == USER_SUITE:
        raise ConfigError(f"suite name {USER_SUITE!r} is reserved for typed prompts: rename the suite")
    existing = {(p.key, p.language): p for p in session.scalars(select(Prompt).where(Prompt.suite == suite.suite))}
    for item in suite.prompts:
        for language, text in item.texts().items():
            row = existing.get((item.id, language))
            if row is None:
                session.add(
                    Prompt(suite=suite.suite, key=item.id, language=language, category=item.category, text=text)
                )
            else:
                row.category, row.text = item.category, text
    session.flush()
    return sum(len(p.texts()) for p in suite.prompts)


def user_prompt(session: Session, text: str, category: str = "user") -> Prompt:
    """The Prompt row of a typed prompt (created once per distinct text)."""
    text = text.strip()
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    language = detect_language(text)
    query = select(Prompt).where(Prompt.suite == USER_SUITE, Prompt.key == key, Prompt.language == language)
    row = session.scalar(query)
    if row is None:
        try:
            with session.begin_nested():  # two first uses of one prompt at once: one insert wins
                row = Prompt(suite=USER_SUITE, key=key, language=language, category=category, text=text)
                session.add(row)
        except IntegrityError:
            row = session.scalars(query).one()
    return row


def sync_models(session: Session, catalog: ModelCatalog) -> None:
    """Mirror the models file into the models table (models removed from the file are disabled, not deleted)."""
    rows = {m.id: m for m in session.scalars(select(Model))}
    for spec in catalog.specs:
        row = rows.pop(spec.id, None) or Model(id=spec.id)
        row.display_name, row.organisation, row.licence = spec.display_name, spec.organisation, spec.licence
        row.kind, row.enabled, row.in_house = spec.kind, spec.enabled, spec.in_house
        row.spec = spec.model_dump(mode="json")
        session.add(row)
    for stale in rows.values():
        stale.enabled = False
    session.flush()


class SuitePrompts:
    """The suite prompts as pickers and ``GET /api/prompts`` list them (typed prompts are not among them)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def listed(self, language: str | None = None) -> list[PromptJSON]:
        """id, key, text, language and category of each suite prompt (of ``language`` if given)."""
        with transaction(self.factory) as session:
            query = select(Prompt).where(Prompt.suite != USER_SUITE).order_by(Prompt.key, Prompt.language)
            if language:
                query = query.where(Prompt.language == language)
            return [
                PromptJSON(id=p.id, key=p.key, text=p.text, language=p.language, category=p.category)
                for p in session.scalars(query)
            ]
