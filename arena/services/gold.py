"""Gold checks: battles of a known-better vs known-worse model pair (``gold_pairs``), whose votes test their voter.

Every anonymous battle of pool clips whose models are a gold pair, and whose two clips differ, is a check,
whether it was drawn as an extra gold battle (``gold_rate``) or by the matchmaker: which battles are checks then
follows from their two models alone, so a client that tells a check from another battle has learnt nothing the
blind does not already hide. Extra gold battles are drawn by the same chooser from the same candidates (those of
gold pairs only) and served like every other; they stay off the board, being drawn outside the matchmaking design.
Identical clips have no right answer: never a check.
"""

from __future__ import annotations

from collections.abc import Sequence

from arena.services.pairs import Candidate, PerCandidates

KEPT = 8  # candidate tuples whose gold ones are kept: a snapshot's whole pool and each language (and a newer's)


class GoldPairs:
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.better = {frozenset(pair): pair[0] for pair in pairs}  # unordered pair -> the known-better model
        # The gold candidates of each snapshot tuple restricted: the same tuple for every start from one snapshot, so
        # the chooser keeps its fit of them as it does of the whole pool's (matchmaking.py).
        self._gold: PerCandidates[tuple[Candidate, ...]] = PerCandidates(KEPT)

    def __bool__(self) -> bool:
        return bool(self.better)

    def restrict(self, candidates: Sequence[Candidate]) -> tuple[Candidate, ...]:
        """The candidates of gold pairs (those an extra gold battle is drawn from); for the same ``candidates``
        object, the same tuple."""
        gold = self._gold.get(candidates)
        if gold is None:
            gold = tuple(c for c in candidates if frozenset((c.model_a, c.model_b)) in self.better)
            self._gold.put(candidates, gold)
        return gold

    def answer(self, left: str, right: str, left_clip: str | None, right_clip: str | None) -> str | None:
        """The side a careful voter prefers ("left" | "right"), or None when the battle is no check (not a gold
        pair, or one clip shown twice: content hashes ``left_clip`` and ``right_clip`` equal)."""
        better = self.better.get(frozenset((left, right)))
        if better is None or left_clip is None or left_clip == right_clip:
            return None
        return "left" if left == better else "right"
