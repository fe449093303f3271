"""The Leaderboard's plots: empty heatmap cells stay empty, open interval ends are drawn open, verdict colours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from arena.services.verdicts import VerdictRow, Verdicts
from arena.ui.decision_plots import COLOURS, heatmap_figure, rating_forest, versus_forest


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
