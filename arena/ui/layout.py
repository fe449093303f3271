"""Assembles the Blocks from an injected Arena: header, the five tabs, the shared session state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from arena.services.container import Arena
from arena.ui.about import build_about
from arena.ui.common import Ui, model_choices
from arena.ui.duel import build_duel
from arena.ui.i18n import make_i18n, t
from arena.ui.leaderboard import build_leaderboard
from arena.ui.metrics_tab import build_metrics_tab
from arena.ui.playground import build_playground
from arena.ui.simulated_tab import build_simulated_tab

CSS_PATH = Path(__file__).with_name("arena.css")


def build_ui(arena: Arena) -> gr.Blocks:
    """The whole UI. Model names reach the browser only from the named tabs, when they are opened."""
    with gr.Blocks(title="Video Arena", analytics_enabled=False) as blocks:
        ui = Ui(arena=arena, session=gr.State(None))
        gr.Markdown(t("header_md"))
        with gr.Tabs():
            with gr.Tab(t("tab_battle"), id="battle"):
                build_duel(ui, named=False)
            with gr.Tab(t("tab_side_by_side"), id="side_by_side") as side_tab:
                side = build_duel(ui, named=True)
            play_tab, play_model = build_playground(ui)
            build_leaderboard(arena)
            build_simulated_tab(arena)
            build_metrics_tab(arena)
            build_about()

    def list_models() -> dict[Any, Any]:
        choices = model_choices(arena)
        return {dropdown: gr.update(choices=choices) for dropdown in pickers}

    pickers = [*(side.models or ()), play_model]
    with blocks:
        side_tab.select(list_models, None, pickers, api_visibility="private")
        play_tab.select(list_models, None, pickers, api_visibility="private")
    return blocks


def mount_options() -> dict[str, Any]:
    """Keyword arguments for gr.mount_gradio_app: styles, translations, and no error text or monitoring."""
    return {
        "css": CSS_PATH.read_text(encoding="utf-8"),
        "i18n": make_i18n(),
        "show_error": False,  # exception text could name a model
        "enable_monitoring": False,
        "footer_links": [],
    }
