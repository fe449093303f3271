"""Battle rows (vocabulary, sources, errors) and online Elo."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.ratings import BattleRows, compute_elo
from arena.ratings.elo import elo_array

RECS = [
    {"model_a": "b", "model_b": "a", "winner": "model_a", "category": "people", "session": "s1", "junk": 1},
    {"model_a": "a", "model_b": "c", "winner": "tie (bothbad)", "weight": 0.5},
    {"model_a": "c", "model_b": "b", "winner": "tie", "language": "fr"},
    {"model_a": "a", "model_b": "b", "winner": "leftvote"},
]


def test_from_records_maps_models_outcomes_weights_and_extras() -> None:
    rows = BattleRows.from_records(iter(RECS))
    assert rows.models == ("a", "b", "c") and len(rows) == 4
    assert rows.a.tolist() == [1, 0, 2, 0] and rows.b.tolist() == [0, 2, 1, 1]
    assert rows.score.tolist() == [1.0, 0.5, 0.5, 1.0]
    assert rows.weight.tolist() == [1.0, 0.5, 1.0, 1.0]
    assert rows.extra["category"].tolist() == ["people", None, None, None]
    assert "junk" not in rows.extra and rows.extra["language"][2] == "fr"
    c = rows.counts()
    assert c["votes"].tolist() == [3, 3, 2] and c["wins"].tolist() == [1, 1, 0] and c["ties"].tolist() == [1, 1, 2]


def test_sources_agree(tmp_path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECS) + "\n\n")
    a, b, c = BattleRows.from_records(RECS), BattleRows.from_jsonl(path), BattleRows.from_dataframe(pd.DataFrame(RECS))
    for other in (b, c):
        assert other.models == a.models
        assert np.array_equal(other.a, a.a) and np.array_equal(other.winner, a.winner)
        assert np.array_equal(other.weight, a.weight)


@pytest.mark.parametrize(
    ("recs", "message"),
    [
        ([{"model_a": "a", "model_b": "b", "winner": "left"}], "row 0: unknown winner 'left'"),
        ([{"model_a": "a", "winner": "tie"}], "model_b"),
        ([{"model_a": "a", "model_b": "a", "winner": "tie"}], "itself"),
        ([{"model_a": "a", "model_b": "b", "winner": "tie", "weight": -1}], "weights"),
    ],
)
def test_bad_rows_are_refused(recs, message) -> None:
    with pytest.raises(ValueError, match=message):
        BattleRows.from_records(recs)


def test_bad_jsonl_names_the_record(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"model_a": "a", "model_b": "b", "winner": "tie"}\n{oops\n')
    with pytest.raises(ValueError, match="record 2"):
        BattleRows.from_jsonl(path)


def test_subset_drops_unused_models() -> None:
    rows = BattleRows.from_records(RECS)
    sub = rows.subset(rows.extra["category"] == "people")
    assert sub.models == ("a", "b") and sub.a.tolist() == [1] and sub.b.tolist() == [0]


def test_elo_first_updates_by_hand() -> None:
    rows = BattleRows.from_records(
        [
            {"model_a": "a", "model_b": "b", "winner": "model_a"},
            {"model_a": "a", "model_b": "b", "winner": "tie"},
        ]
    )
    r = compute_elo(rows)
    a1 = 1000 + 4 * 0.5  # first battle: expected 0.5, scored 1
    e = 1 / (1 + 10 ** ((2000 - a1 - a1) / 400))
    assert r["a"] == pytest.approx(a1 + 4 * (0.5 - e)) and r["b"] == pytest.approx(2000 - r["a"])


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(1, 3), st.sampled_from(["model_a", "model_b", "tie"])),
        min_size=1,
        max_size=80,
    )
)
@settings(max_examples=40, deadline=None)
def test_elo_is_zero_sum_and_order_dependent(battles) -> None:
    rows = BattleRows.from_records(
        [{"model_a": f"m{a}", "model_b": f"m{(a + d) % 4}", "winner": w} for a, d, w in battles]
    )
    r = elo_array(rows)
    assert r.mean() == pytest.approx(1000.0) and np.all(np.abs(r - 1000) <= 4 * len(rows))
