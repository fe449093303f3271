"""Rows collapsed to pairs (what the board fits): the same battles, counts and board as the rows they merge."""

from __future__ import annotations

from collections import Counter

import numpy as np

from arena.ratings import BattleRows, leaderboard

MODELS = ["m0", "m1", "m2", "m3"]


def random_rows(n: int, seed: int) -> BattleRows:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, n)
    b = (a + rng.integers(1, 4, n)) % 4
    extra = {
        "design_weight": rng.choice([1.0, 0.5, 2.0], n),
        "prompt_id": rng.integers(0, 7, n),
        "language": rng.choice(np.array(["en", "zh"], dtype=object), n),
    }
    return BattleRows.from_columns(
        [MODELS[i] for i in a],
        [MODELS[i] for i in b],
        rng.choice(["model_a", "model_b", "tie", "tie (bothbad)"], n).tolist(),
        rng.choice([1.0, 0.25, 0.0], n),
        extra,
        rng.integers(1, 5, n),
    )


def groups(rows: BattleRows, keep: tuple[str, ...]) -> Counter[tuple[object, ...]]:
    out: Counter[tuple[object, ...]] = Counter()
    for k in range(len(rows)):
        key = (rows.a[k], rows.b[k], rows.winner[k], rows.weight[k], *(rows.extra[f][k] for f in keep))
        out[key] += int(rows.battles[k])
    return out


def test_collapse_keeps_every_battle_of_each_group_and_the_board() -> None:
    rows = random_rows(600, 3)
    for keep in ((), ("design_weight",), ("design_weight", "language"), ("prompt_id",)):
        collapsed = rows.collapse(keep)
        assert len(collapsed) < len(rows) and collapsed.total == rows.total
        assert groups(collapsed, keep) == groups(rows, keep)
        assert len(set(groups(collapsed, keep))) == len(collapsed)  # one row per group
        for name, values in rows.counts().items():
            assert np.array_equal(collapsed.counts()[name], values)
    full = leaderboard(rows, bootstrap_rounds=0).to_json()["ratings"]
    pairs = leaderboard(rows.collapse(("design_weight",)), bootstrap_rounds=0).to_json()["ratings"]
    assert full.keys() == pairs.keys() and all(abs(full[m] - pairs[m]) < 1e-6 for m in full)
