"""Leaderboard tab: the ranked table with a forest plot of the ratings, the in-house verdicts (what they promise,
a forest plot coloured by verdict, per-group bars and tables), the prompts the in-house model loses, position
bias and raters, heatmaps, and boards per category and language. Every view follows the page's filters.

Each view is its own function (arena.ui.insights, arena.ui.decision_plots) over the services' data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

import gradio as gr
import pandas as pd

from arena.ratings.board import interval_text
from arena.services.container import Arena
from arena.services.losses import losing_prompts
from arena.services.rating_views import Board
from arena.ui.common import LANGUAGE_CHOICES
from arena.ui.decision_plots import group_bars, heatmap_figure, rating_forest, versus_forest
from arena.ui.i18n import request_language, t, text
from arena.ui.insights import (
    bias_view,
    group_boards,
    losses_view,
    promise_note,
    raters_view,
    style_table,
    verdict_table,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

COLUMNS = ("rank", "model", "organisation", "licence", "rating", "ci", "votes", "win_rate")
BREAKDOWNS = ("none", "category", "language", "prompt")


def board_table(board: Board, lang: str) -> pd.DataFrame:
    """The board's rows as a table with headers in the user's language."""
    records = [
        {
            "rank": "–" if r["rank"] is None else r["rank"],
            "model": r["model"],
            "organisation": r["organisation"],
            "licence": r["licence"],
            "rating": f"{r['rating']:.0f}",
            "ci": interval_text(r["ci"], r.get("insufficient", False)),
            "votes": r["votes"],
            "win_rate": f"{100 * r['win_rate']:.0f} %",
        }
        for r in board.get("rows", [])
    ]
    frame = pd.DataFrame(records, columns=list(COLUMNS))
    return frame.rename(columns={c: text(f"col_{c}", lang) for c in COLUMNS})


def board_summary(board: Board, lang: str) -> str:
    if not board["votes"]:
        return text("no_votes", lang)
    key = "votes_summary" if board["rows"] else "too_few"
    parts = [text(key, lang, votes=board["votes"], min_votes=board["min_votes"])]
    if board.get("hidden"):
        parts.append(text("hidden_note", lang, min_votes=board["min_votes"], models=", ".join(board["hidden"])))
    if board.get("components", 1) > 1:
        parts.append(text("components_note", lang, n=board["components"]))
    return "\n\n".join(parts)


def _filters(language: str | None, category: str | None) -> tuple[str | None, str | None]:
    return (None if language in (None, "", "any") else language, None if category in (None, "", "all") else category)


class LeaderboardViews(TypedDict):
    """What the tab shows for one set of filters, keyed by the component that shows it."""

    summary: str
    table: pd.DataFrame
    forest: go.Figure | None
    heatmap: go.Figure | None
    counts: go.Figure | None
    bias: str
    versus_note: str
    versus: pd.DataFrame
    versus_plot: go.Figure | None
    groups: pd.DataFrame
    group_plot: go.Figure | None
    losses: str
    style_note: str
    style: pd.DataFrame


def leaderboard_views(
    arena: Arena, language: str | None, category: str | None, breakdown: str | None, lang: str
) -> LeaderboardViews:
    """Everything the tab shows for one set of filters and one breakdown of the verdicts."""
    lang_filter, cat_filter = _filters(language, category)
    by = [] if breakdown in (None, "", "none") else [breakdown]
    snap = arena.leaderboard.snapshot()  # one read of the votes for every view below
    board = snap.board(language=lang_filter, category=cat_filter)
    matrices = snap.matrices(lang_filter, cat_filter)
    verdicts = snap.versus(language=lang_filter, category=cat_filter, by=by)
    names = dict(verdicts.names)
    in_house = verdicts.in_house
    model_name = names.get(in_house, in_house) if in_house else ""
    losses = losing_prompts(arena.factory, snap, arena.clips, in_house, lang_filter, cat_filter) if in_house else []
    field = text(f"split_{breakdown}", lang) if by else ""
    style_note, style = style_table(snap.style(lang_filter, cat_filter), lang)
    return {
        "summary": board_summary(board, lang),
        "table": board_table(board, lang),
        "forest": rating_forest(board, text("forest_title", lang)),
        "heatmap": heatmap_figure(matrices["win_fraction"], text("heatmap", lang)),
        "counts": heatmap_figure(matrices["battle_count"], text("counts_heatmap", lang), fractions=False),
        "bias": "\n\n".join(x for x in (bias_view(snap, lang), raters_view(snap, lang)) if x),
        "versus_note": promise_note(verdicts, lang),
        "versus": verdict_table(verdicts, lang, grouped=False),
        "versus_plot": versus_forest(verdicts, text("versus_title", lang, model=model_name)),
        "groups": verdict_table(verdicts, lang, grouped=True),
        "group_plot": None
        if breakdown == "prompt"
        else group_bars(verdicts, text("bars_title", lang, model=model_name, field=field)),
        "losses": losses_view(losses, model_name, snap.settings.leaderboard_clips, lang) if in_house else "",
        "style_note": style_note,
        "style": style,
    }


def build_leaderboard(arena: Arena) -> gr.Tab:
    categories = sorted({str(p["category"]) for p in arena.prompts.listed()})
    with gr.Tab(t("tab_leaderboard"), id="leaderboard") as tab:
        with gr.Row():
            language = gr.Radio(LANGUAGE_CHOICES, value="any", label=t("prompt_language"))
            category = gr.Dropdown(
                [("All / 全部", "all"), *[(c, c) for c in categories]], value="all", label=t("prompt_category")
            )
            refresh = gr.Button(t("refresh"), scale=0, size="sm")
        summary = gr.Markdown()
        table = gr.Dataframe(interactive=False, wrap=True)
        gr.Markdown(t("shared_rank"))
        forest = gr.Plot()
        bias = gr.Markdown()
        gr.Markdown(t("decisions_md"))
        breakdown = gr.Radio(
            [(f"{text('split_' + b, 'en')} / {text('split_' + b, 'zh')}", b) for b in BREAKDOWNS],
            value="none",
            label=t("break_down"),
        )
        versus_note = gr.Markdown()
        versus = gr.Dataframe(interactive=False, wrap=True)
        versus_plot = gr.Plot()
        groups = gr.Dataframe(interactive=False, wrap=True)
        group_plot = gr.Plot()
        losses = gr.HTML()
        style_note = gr.Markdown()
        style = gr.Dataframe(interactive=False, wrap=True)
        heatmap = gr.Plot()
        counts = gr.Plot()
        gr.Markdown(t("boards_md"))
        board_by = gr.Radio(
            [("Category / 类别", "by_category"), ("Language / 语言", "by_language")],
            value="by_category",
            label=t("board_by"),
            elem_id="arena-board-by",
        )
        boards = gr.Dataframe(interactive=False, wrap=True)

    outputs = {
        "summary": summary,
        "table": table,
        "forest": forest,
        "heatmap": heatmap,
        "counts": counts,
        "bias": bias,
        "versus_note": versus_note,
        "versus": versus,
        "versus_plot": versus_plot,
        "groups": groups,
        "group_plot": group_plot,
        "losses": losses,
        "style_note": style_note,
        "style": style,
    }

    def show(language: str | None, category: str | None, by: str | None, request: gr.Request) -> dict[Any, Any]:
        views = leaderboard_views(arena, language, category, by, request_language(request))
        return {outputs[key]: value for key, value in views.items()}

    def show_boards(field: str, request: gr.Request) -> pd.DataFrame:
        return group_boards(arena.leaderboard.snapshot(), field.removeprefix("by_"), request_language(request))

    board_by.change(show_boards, [board_by], [boards], api_visibility="private")
    tab.select(show_boards, [board_by], [boards], api_visibility="private")
    args = ([language, category, breakdown], list(outputs.values()))
    refresh.click(show, *args, api_name="leaderboard")
    for control in (language, category, breakdown):
        control.change(show, *args, api_visibility="private")
    tab.select(show, *args, api_visibility="private")
    return tab
