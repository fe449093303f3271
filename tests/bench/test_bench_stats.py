"""The comparison's statistics alone: paired t evidence through the decision layer keeps the chance of any false
verdict in a family at alpha when nothing changed, and finds real changes."""

from __future__ import annotations

import numpy as np

from arena.bench.compare import PairedT, paired_evidence
from arena.ratings.verdicts import Verdict, decide_family


def _family(rng: np.random.Generator, shift: float, cells: int = 12, prompts: int = 12) -> list[Verdict]:
    items = [paired_evidence(list(rng.normal(shift, 1.0, prompts))) for _ in range(cells)]
    return [d.verdict for d in decide_family(items, alpha=0.05, method="holm")]


def test_no_change_gives_a_false_verdict_in_at_most_alpha_of_families() -> None:
    rng = np.random.default_rng(7)
    families = 250
    wrong = sum(any(v != Verdict.UNDECIDED for v in _family(rng, 0.0)) for _ in range(families))
    assert wrong / families <= 0.05 + 3 * (0.05 * 0.95 / families) ** 0.5  # Holm: at most alpha, with sampling slack


def test_a_real_change_is_found() -> None:
    rng = np.random.default_rng(8)
    verdicts = [v for _ in range(50) for v in _family(rng, -1.5)]
    assert verdicts.count(Verdict.WORSE) / len(verdicts) > 0.8 and Verdict.BETTER not in verdicts


def test_t_intervals_widen_with_the_level_and_identical_prompts_give_no_evidence() -> None:
    evidence = PairedT(estimate=0.5, se=0.1, df=5)
    low95, high95 = evidence.interval(0.05)
    low99, high99 = evidence.interval(0.01)
    assert low99 < low95 < 0.5 < high95 < high99
    assert 0 < evidence.claim_p(0.0) < 0.01
    assert paired_evidence([0.0, 0.0, 0.0]) is None and paired_evidence([1.0]) is None
