"""Plots of the Leaderboard tab (plotly): ratings with intervals, the in-house model against each rival coloured
by verdict, gaps per category / language, and heatmaps whose empty cells stay empty. Plain functions over the
services' data; each returns None when there is nothing to draw."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from arena.services.rating_views import Board
from arena.services.verdicts import VerdictRow, Verdicts

if TYPE_CHECKING:  # plotly is imported when a plot is drawn
    import plotly.graph_objects as go

# Verdict colours (colour-blind safe: blue / orange / grey-green / grey).
COLOURS = {
    "better": "#1f77b4",
    "worse": "#ff7f0e",
    "equivalent": "#2ca02c",
    "undecided": "#7f7f7f",
    "insufficient data": "#c7c7c7",
}
_OPEN = 400.0  # how far an open end of an interval is drawn past the data


def _errors(
    centre: Sequence[float], low: Sequence[float | None], high: Sequence[float | None]
) -> tuple[list[float], list[float]]:
    """Error-bar lengths (plus, minus); an open end (None) is drawn `_OPEN` points long."""
    plus = [_OPEN if h is None else h - c for c, h in zip(centre, high, strict=True)]
    minus = [_OPEN if lo is None else c - lo for c, lo in zip(centre, low, strict=True)]
    return plus, minus


def rating_forest(board: Board, title: str) -> go.Figure | None:
    """Each model's rating with its interval (an open end drawn as a long arrow), best at the top."""
    rows = [r for r in board.get("rows", []) if not r.get("insufficient")]
    if not rows:
        return None
    import plotly.graph_objects as go

    names = [r["model"] for r in rows]
    centre = [r["rating"] for r in rows]
    plus, minus = _errors(centre, [r["ci"][0] for r in rows], [r["ci"][1] for r in rows])
    fig = go.Figure(
        go.Scatter(
            x=centre,
            y=names,
            mode="markers",
            error_x={"type": "data", "array": plus, "arrayminus": minus, "symmetric": False},
            marker={"size": 9, "color": "#1f77b4"},
            hovertemplate="%{y}: %{x:.0f}<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=120 + 28 * len(rows), margin={"l": 10, "r": 10, "t": 50, "b": 30})
    fig.update_yaxes(autorange="reversed")
    return fig


def _label(row: VerdictRow, names: dict[str, str]) -> str:
    rival = names.get(row.b, row.b)
    return rival if not row.group else f"{rival} · {', '.join(row.group.values())}"


def versus_forest(verdicts: Verdicts, title: str) -> go.Figure | None:
    """The in-house model minus each rival (overall rows), with the interval at each verdict's level, coloured by
    verdict; dotted lines at 0 and ±margin."""
    rows = [r for r in verdicts.overall() if r.estimate is not None]
    if not rows:
        return None
    import plotly.graph_objects as go

    names = dict(verdicts.names)
    centre = [float(r.estimate or 0.0) for r in rows]
    plus, minus = _errors(centre, [r.interval[0] for r in rows], [r.interval[1] for r in rows])
    fig = go.Figure()
    for verdict, colour in COLOURS.items():
        idx = [i for i, r in enumerate(rows) if r.decision == verdict]
        if not idx:
            continue
        fig.add_trace(
            go.Scatter(
                x=[centre[i] for i in idx],
                y=[_label(rows[i], names) for i in idx],
                mode="markers",
                name=verdict,
                marker={"size": 10, "color": colour},
                error_x={
                    "type": "data",
                    "array": [plus[i] for i in idx],
                    "arrayminus": [minus[i] for i in idx],
                    "symmetric": False,
                    "color": colour,
                },
                hovertemplate="%{y}: %{x:+.0f}<extra>" + verdict + "</extra>",
            )
        )
    for x, dash in ((0.0, "solid"), (verdicts.margin, "dot"), (-verdicts.margin, "dot")):
        if dash == "solid" or verdicts.margin > 0:
            fig.add_vline(x=x, line_dash=dash, line_color="#999999")
    fig.update_layout(title=title, height=140 + 30 * len(rows), margin={"l": 10, "r": 10, "t": 50, "b": 30})
    fig.update_yaxes(autorange="reversed")
    return fig


def group_bars(verdicts: Verdicts, title: str) -> go.Figure | None:
    """Per group (category or language): one bar per rival, the gap with its interval, coloured by verdict."""
    rows = [r for r in verdicts.rows if r.group and r.estimate is not None]
    if not rows:
        return None
    import plotly.graph_objects as go

    names = dict(verdicts.names)
    fig = go.Figure()
    for r in rows:
        est = float(r.estimate or 0.0)
        plus, minus = _errors([est], [r.interval[0]], [r.interval[1]])
        fig.add_trace(
            go.Bar(
                x=[", ".join(r.group.values())],
                y=[est],
                name=names.get(r.b, r.b),
                marker_color=COLOURS.get(r.decision, "#7f7f7f"),
                error_y={"type": "data", "array": plus, "arrayminus": minus, "symmetric": False},
                hovertemplate=f"{names.get(r.b, r.b)}: %{{y:+.0f}} ({r.decision})<extra></extra>",
                showlegend=False,
            )
        )
    fig.update_layout(title=title, barmode="group", height=380, margin={"l": 10, "r": 10, "t": 50, "b": 30})
    return fig


def heatmap_figure(matrix: pd.DataFrame | None, title: str, *, fractions: bool = True) -> go.Figure | None:
    """A plotly heatmap of a model × model matrix (win fractions, or counts). Cells with no battles (NaN, or a
    count of 0) are sent as null, which plotly draws empty, not as a colour of the scale."""
    if matrix is None or matrix.empty:
        return None
    import plotly.graph_objects as go

    labels = [str(m) for m in matrix.index]
    cols = [str(m) for m in matrix.columns]
    values = matrix.to_numpy(dtype=float)
    z = [[None if (v != v or (not fractions and v == 0)) else float(v) for v in row] for row in values]
    cells = [["" if v is None else (f"{v:.2f}" if fractions else f"{v:.0f}") for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=cols,
            y=labels,
            text=cells,
            texttemplate="%{text}",
            colorscale="RdBu" if fractions else "Blues",
            zmin=0,
            zmax=1 if fractions else None,
            hoverongaps=False,
            hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>" if fractions else "%{y} vs %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=420, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    fig.update_yaxes(autorange="reversed")
    return fig
