"""Leaderboard tab: the ranked table, filters by prompt language and category, and a win-fraction heatmap.

Each view is its own function over the service's plain data, so more views (in-house vs rivals, position bias,
per-category boards) can be added beside them without touching the others.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from arena.services.container import Arena
from arena.ui.common import LANGUAGE_CHOICES
from arena.ui.i18n import request_language, t, text
from arena.ui.insights import bias_view, group_boards, raters_view, versus_view

COLUMNS = ("rank", "model", "organisation", "licence", "rating", "ci", "votes", "win_rate")


def board_table(board: dict[str, Any], lang: str) -> pd.DataFrame:
    """The board's rows as a table with headers in the user's language."""
    records = [
        {
            "rank": r["rank"],
            "model": r["model"],
            "organisation": r["organisation"],
            "licence": r["licence"],
            "rating": f"{r['rating']:.0f}",
            "ci": f"{r['ci'][0]:.0f} – {r['ci'][1]:.0f}",
            "votes": r["votes"],
            "win_rate": f"{100 * r['win_rate']:.0f} %",
        }
        for r in board.get("rows", [])
    ]
    frame = pd.DataFrame(records, columns=list(COLUMNS))
    return frame.rename(columns={c: text(f"col_{c}", lang) for c in COLUMNS})


def board_summary(board: dict[str, Any], lang: str) -> str:
    if not board.get("votes"):
        return text("no_votes", lang)
    key = "votes_summary" if board.get("rows") else "too_few"
    return text(key, lang, votes=board["votes"], min_votes=board.get("min_votes", 0))


def heatmap_figure(matrix: pd.DataFrame | None, title: str, *, fractions: bool = True) -> Any:
    """A plotly heatmap of a model × model matrix (win fractions, or counts) labelled as the matrix is (the
    snapshot's matrices carry display names); None when there is nothing."""
    if matrix is None or matrix.empty:
        return None
    import plotly.graph_objects as go

    labels = [str(m) for m in matrix.index]
    cols = [str(m) for m in matrix.columns]
    values = matrix.to_numpy(dtype=float)
    cells = [["" if v != v else (f"{v:.2f}" if fractions else f"{v:.0f}") for v in row] for row in values]
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=cols,
            y=labels,
            text=cells,
            texttemplate="%{text}",
            colorscale="RdBu" if fractions else "Blues",
            zmin=0,
            zmax=1 if fractions else None,
            hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>" if fractions else "%{y} vs %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=420, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    fig.update_yaxes(autorange="reversed")
    return fig


def leaderboard_views(arena: Arena, language: str | None, category: str | None, lang: str) -> dict[str, Any]:
    """Everything the tab shows for one filter: summary text, table, heatmap."""
    lang_filter = None if language in (None, "", "any") else language
    cat_filter = None if category in (None, "", "all") else category
    snap = arena.leaderboard.snapshot()  # one read of the votes for every view below (its fits are shared)
    board = snap.board(language=lang_filter, category=cat_filter)
    matrices = snap.matrices(lang_filter, cat_filter)  # both matrices from one set of rows
    heatmap = heatmap_figure(matrices["win_fraction"], text("heatmap", lang))
    counts = heatmap_figure(matrices["battle_count"], text("counts_heatmap", lang), fractions=False)
    versus_note, versus = versus_view(snap, lang)
    return {
        "summary": board_summary(board, lang),
        "table": board_table(board, lang),
        "heatmap": heatmap,
        "counts": counts,
        "bias": "\n\n".join(x for x in (bias_view(snap, lang), raters_view(snap, lang)) if x),
        "versus_note": versus_note,
        "versus": versus,
    }


def build_leaderboard(arena: Arena) -> gr.Tab:
    categories = sorted({str(p["category"]) for p in arena.prompts()})
    with gr.Tab(t("tab_leaderboard"), id="leaderboard") as tab:
        with gr.Row():
            language = gr.Radio(LANGUAGE_CHOICES, value="any", label=t("prompt_language"))
            category = gr.Dropdown(
                [("All / 全部", "all"), *[(c, c) for c in categories]], value="all", label=t("prompt_category")
            )
            refresh = gr.Button(t("refresh"), scale=0, size="sm")
        summary = gr.Markdown()
        table = gr.Dataframe(interactive=False, wrap=True)
        bias = gr.Markdown()
        gr.Markdown(t("decisions_md"))
        versus_note = gr.Markdown()
        versus = gr.Dataframe(interactive=False, wrap=True)
        heatmap = gr.Plot()
        counts = gr.Plot()
        gr.Markdown(t("boards_md"))
        board_by = gr.Radio(
            [("Category / 类别", "by_category"), ("Language / 语言", "by_language")],
            value="by_category",
            label=t("board_by"),
        )
        boards = gr.Dataframe(interactive=False, wrap=True)

    def show(language: str | None, category: str | None, request: gr.Request) -> dict[Any, Any]:
        views = leaderboard_views(arena, language, category, request_language(request))
        return {
            summary: views["summary"],
            table: views["table"],
            heatmap: views["heatmap"],
            counts: views["counts"],
            bias: views["bias"],
            versus_note: views["versus_note"],
            versus: views["versus"],
        }

    def show_boards(field: str, request: gr.Request) -> Any:
        return group_boards(arena.leaderboard.snapshot(), field.removeprefix("by_"), request_language(request))

    board_by.change(show_boards, [board_by], [boards], api_visibility="private")
    tab.select(show_boards, [board_by], [boards], api_visibility="private")
    args = ([language, category], [summary, table, heatmap, counts, bias, versus_note, versus])
    refresh.click(show, *args, api_name="leaderboard")
    language.change(show, *args, api_visibility="private")
    category.change(show, *args, api_visibility="private")
    tab.select(show, *args, api_visibility="private")
    return tab
