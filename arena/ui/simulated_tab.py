"""The Simulated board tab: the board of the arena's simulated voters, apart from the human one and labelled so.

Simulated votes (the demo crowd of `make demo`, `arena calibrate`) are stored as simulated by the server and
never reach the human Leaderboard, exports or decisions; this tab reads them through the leaderboard's
`simulated` switch (which also counts any human votes, so the two boards can be compared).
"""

from __future__ import annotations

from typing import Any, TypedDict

import gradio as gr
import pandas as pd

from arena.services.container import Arena
from arena.ui.i18n import request_language, t, text
from arena.ui.insights import bias_view, raters_view
from arena.ui.leaderboard import board_table


class SimulatedViews(TypedDict):
    summary: str
    table: pd.DataFrame
    notes: str


def simulated_views(arena: Arena, lang: str) -> SimulatedViews:
    snap = arena.leaderboard.snapshot(simulated=True)
    board = snap.board()
    summary = text("sim_votes", lang, votes=board["votes"]) if board.get("votes") else text("sim_no_votes", lang)
    notes = [x for x in (bias_view(snap, lang), raters_view(snap, lang)) if x] if board.get("votes") else []
    return SimulatedViews(summary=summary, table=board_table(board, lang), notes="\n\n".join(notes))


def build_simulated_tab(arena: Arena) -> gr.Tab:
    with gr.Tab(t("tab_simulated"), id="simulated") as tab:
        gr.Markdown(t("simulated_md"), elem_classes=["simulated-banner"])
        refresh = gr.Button(t("refresh"), scale=0, size="sm")
        summary = gr.Markdown()
        table = gr.Dataframe(interactive=False, wrap=True)
        notes = gr.Markdown()

    def show(request: gr.Request) -> dict[Any, Any]:
        views = simulated_views(arena, request_language(request))
        return {summary: views["summary"], table: views["table"], notes: views["notes"]}

    refresh.click(show, None, [summary, table, notes], api_name="simulated_board")
    tab.select(show, None, [summary, table, notes], api_visibility="private")
    return tab
