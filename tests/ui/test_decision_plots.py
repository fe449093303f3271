"""The Leaderboard's plots: empty heatmap cells stay empty, open interval ends are drawn open, verdict colours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from arena.services.verdicts import VerdictRow, Verdicts
from arena.ui.decision_plots import COLOURS, group_bars, heatmap_figure, rating_forest, versus_forest


def test_cells_with_no_battles_are_null_not_mid_scale() -> None:
    frac = pd.DataFrame([[np.nan, 0.5], [np.nan, np.nan]], index=["a", "b"], columns=["a", "b"])
    fig = heatmap_figure(frac, "wins")
    z = [list(row) for row in fig.data[0].z]
    assert z == [[None, 0.5], [None, None]]  # null is a gap in plotly, 0.5 would be the middle colour
    counts = heatmap_figure(pd.DataFrame([[0, 3], [3, 0]], index=["a", "b"], columns=["a", "b"]), "n", fractions=False)
    assert [list(row) for row in counts.data[0].z] == [[None, 3.0], [3.0, None]]
    assert fig.data[0].hoverongaps is False and heatmap_figure(None, "x") is None


def test_forest_plots_draw_open_ends_and_colour_verdicts() -> None:
    board = {
        "rows": [
            {"model": "top", "rating": 1200.0, "ci": [1100.0, None], "insufficient": False},
            {"model": "mid", "rating": 1000.0, "ci": [950.0, 1050.0], "insufficient": False},
            {"model": "ties", "rating": 1000.0, "ci": [None, None], "insufficient": True},
        ]
    }
    fig = rating_forest(board, "ratings")
    trace = fig.data[0]
    assert list(trace.y) == ["top", "mid"]  # no interval, no point on the plot
    assert trace.error_x.array[0] >= 400 and trace.error_x.arrayminus[0] == 100  # the open end reaches far

    def row(b: str, decision: str, est: float, lo: float | None, hi: float | None) -> VerdictRow:
        return VerdictRow("ih", b, {}, decision, est, [lo, hi], 0.99, 0.01, 0.02, 3, 1, 0, 10, 0, False, "")

    verdicts = Verdicts(
        (row("r1", "better", 60.0, 20.0, 100.0), row("r2", "undecided", 5.0, -40.0, 50.0)),
        "holm",
        "Holm",
        0.05,
        20.0,
        50.0,
        2,
        (),
        names={"r1": "Rival One", "r2": "Rival Two"},
    )
    fig = versus_forest(verdicts, "gaps")
    assert {t.name: t.marker.color for t in fig.data} == {
        "better": COLOURS["better"],
        "undecided": COLOURS["undecided"],
    }
    assert {t.y[0] for t in fig.data} == {"Rival One", "Rival Two"}


def test_group_bars_draw_each_groups_gap_coloured_by_verdict() -> None:
    def row(b: str, group: dict[str, str], decision: str, est: float | None, lo, hi) -> VerdictRow:
        return VerdictRow("ih", b, group, decision, est, [lo, hi], 0.99, 0.01, 0.02, 3, 1, 0, 10, 0, False, "")

    rows = (
        row("r1", {}, "better", 60.0, 20.0, 100.0),  # overall: not a bar
        row("r1", {"category": "motion"}, "better", 80.0, 30.0, None),  # unbeaten here: open upper end
        row("r1", {"category": "colour"}, "worse", -70.0, -120.0, -20.0),
        row("r2", {"category": "motion"}, "insufficient data", None, None, None),  # nothing to draw
    )
    verdicts = Verdicts(rows, "holm", "Holm", 0.05, 20.0, 50.0, 3, ("category",), names={"r1": "Rival One"})
    fig = group_bars(verdicts, "by category")
    bars = {t.x[0]: t for t in fig.data}
    assert set(bars) == {"motion", "colour"} and len(fig.data) == 2
    assert bars["motion"].marker.color == COLOURS["better"] and bars["colour"].marker.color == COLOURS["worse"]
    assert bars["colour"].error_y.array[0] == 50.0 and bars["colour"].error_y.arrayminus[0] == 50.0
    assert bars["motion"].error_y.array[0] >= 400 and bars["motion"].error_y.arrayminus[0] == 50.0
    assert group_bars(Verdicts(rows[:1], "holm", "Holm", 0.05, 20.0, 50.0, 1, ()), "none") is None
