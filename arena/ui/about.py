"""About: what the arena is, how votes are used, the blind rules (text in arena.ui.i18n)."""

from __future__ import annotations

import gradio as gr

from arena.ui.i18n import t


def build_about() -> gr.Tab:
    with gr.Tab(t("tab_about"), id="about") as tab:
        gr.Markdown(t("about_md"))
    return tab
