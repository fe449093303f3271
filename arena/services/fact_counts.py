"""Counting votes' facts (rows shaped like `tallies.facts_of`: the `COUNT_KEY` columns, then the choice) into
the rows `vote_counts` adds up, by C-level maps and Counters: no Python runs per vote."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import chain, compress, repeat
from operator import eq, itemgetter
from typing import Any

from db.models import COUNT_KEY, OUTCOME_COUNTS

_KEY = itemgetter(slice(0, len(COUNT_KEY)))  # a fact's count key
_CHOICE = itemgetter(len(COUNT_KEY))  # and its choice


class FactCounts:
    """Votes by count key, one Counter per choice (`OUTCOME_COUNTS` order)."""

    def __init__(self) -> None:
        self.by_choice = [Counter[tuple[Any, ...]]() for _ in OUTCOME_COUNTS]

    def add(self, facts: Sequence[Sequence[Any]]) -> FactCounts:
        choices = list(map(_CHOICE, facts))
        for counter, choice in zip(self.by_choice, OUTCOME_COUNTS, strict=True):
            counter.update(map(_KEY, compress(facts, map(eq, choices, repeat(choice)))))
        return self

    def columns(self, version: int) -> dict[str, Sequence[Any]]:
        """One row per key (in order of first count: the same rows every run) as `vote_counts` columns: the key,
        the votes of each choice, `version`; empty when nothing was counted."""
        keys = list(dict.fromkeys(chain(*self.by_choice)))
        if not keys:
            return {}
        columns: dict[str, Sequence[Any]] = dict(zip(COUNT_KEY, zip(*keys, strict=True), strict=True))
        for name, counter in zip(OUTCOME_COUNTS.values(), self.by_choice, strict=True):
            columns[name] = list(map(counter.get, keys, repeat(0)))
        return columns | {"version": [version] * len(keys)}
