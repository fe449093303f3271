"""Playground: one named model, one prompt, one seed; the clip is served under a signed URL."""

from __future__ import annotations

from typing import Any

import gradio as gr

from arena.services.inputs import MAX_PROMPT_CHARS
from arena.services.views import Refusal
from arena.ui.common import Ui, identify, warn_failure
from arena.ui.i18n import request_language, t, text
from arena.ui.players import empty_html, single_html


def _seed(value: Any) -> int:
    """The seed box's value as an int (a client may send any JSON); out of range is refused by the service."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refusal("invalid", "the seed must be a whole number", 400)
    if value != value or value in (float("inf"), float("-inf")) or value != int(value):
        raise Refusal("invalid", "the seed must be a whole number", 400)
    return int(value)


def build_playground(ui: Ui) -> tuple[gr.Tab, gr.Dropdown]:
    """The tab's components; the model list is filled when the tab is selected (see layout)."""
    arena = ui.arena
    with gr.Tab(t("tab_playground"), id="playground") as tab:
        with gr.Row(equal_height=True):
            model = gr.Dropdown([], label=t("model"), scale=2, allow_custom_value=True)
            seed = gr.Number(0, label=t("seed"), precision=0, minimum=0, scale=1)
        prompt = gr.Textbox(label=t("prompt"), placeholder=t("typed_placeholder"), max_length=MAX_PROMPT_CHARS)
        go = gr.Button(t("generate"), variant="primary")
        player = gr.HTML(empty_html())
        details = gr.JSON(label=t("provenance"))

    def refused(message: str) -> dict[Any, Any]:
        return {player: empty_html(message), details: None}

    def generate(
        model_id: str | None,
        prompt_text: str | None,
        seed_value: float | None,
        session_id: str | None,
        request: gr.Request,
    ) -> dict[Any, Any]:
        lang = request_language(request)
        if not model_id:
            gr.Warning(text("choose_model", lang))
            return refused(text("choose_model", lang))
        cleaned = prompt_text.strip() if isinstance(prompt_text, str) else ""
        if not cleaned:
            gr.Warning(text("empty_prompt", lang))
            return refused(text("empty_prompt", lang))
        try:
            who = identify(arena, session_id, request)
            arena.gate.allow("playground", who)
            result = arena.playground.generate(model_id, cleaned, _seed(seed_value))
        except Exception as exc:
            return refused(warn_failure(exc, lang))
        latency = result.get("latency_s")  # float seconds, or None when not measured
        info = arena.leaderboard.models().get(model_id)
        name = info["display_name"] if info else model_id
        caption = f"{name}"
        if isinstance(latency, int | float) and latency:
            caption += f" · {text('generated_in', lang)} {float(latency):.2f} s"
        return {
            player: single_html(str(result["url"]), caption),
            details: result.get("provenance"),
            ui.session: who.session_id,
        }

    go.click(generate, [model, prompt, seed, ui.session], [player, details, ui.session], api_name="playground")
    return tab, model
