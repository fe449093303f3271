"""Metrics tab: per-model automatic scores with CIs (by prompt category), the VBench view, and their agreement with
the votes."""

from __future__ import annotations

from typing import Any, TypedDict

import gradio as gr
import pandas as pd

from arena.services.container import Arena
from arena.services.metric_board import ScoredVideo
from arena.ui.i18n import request_language, t, text
from metrics.encoders import ENCODERS
from metrics.vbench import VBenchView


def scores_table(arena: Arena, category: str | None, lang: str, videos: dict[int, ScoredVideo]) -> pd.DataFrame:
    """One row per model, one column per metric: "mean [low, high]"."""
    rows = arena.metric_board.summary(category=category, videos=videos)
    if not rows:
        return pd.DataFrame(columns=[text("col_model", lang)])
    cells: dict[str, dict[str, str]] = {}
    for r in rows:
        cells.setdefault(r["model"], {})[r["metric"]] = f"{r['mean']:.3f} [{r['ci'][0]:.3f}, {r['ci'][1]:.3f}]"
    frame = pd.DataFrame.from_dict(cells, orient="index").sort_index()
    frame.index.name = text("col_model", lang)
    return frame.reset_index()


def agreement_table(arena: Arena, lang: str, videos: dict[int, ScoredVideo]) -> pd.DataFrame:
    cols = ("metric", "pairs", "pair_accuracy", "spearman", "models")
    rows = [
        [
            r["metric"],
            r["pairs"],
            "–" if r["pair_accuracy"] is None else f"{100 * r['pair_accuracy']:.0f} %",
            "–" if r["spearman_rho"] is None else f"{r['spearman_rho']:+.2f}",
            r["models"],
        ]
        for r in arena.metric_board.agreement(videos)
    ]
    return pd.DataFrame(rows, columns=[text(f"col_{c}", lang) for c in cols])


def vbench_table(view: VBenchView, lang: str) -> tuple[pd.DataFrame, str]:
    """One row per model, one column per VBench dimension we compute: "raw → normalised" (and what is missing)."""
    columns = [text("col_model", lang)]
    rows = []
    unavailable: dict[str, str] = {}
    for model in view.models:
        row = [model.model]
        for d in model.dimensions:
            if d.dimension not in columns:
                columns.append(d.dimension)
            if d.estimate is None or d.normalised is None:
                row.append("–")
                unavailable.setdefault(d.dimension, d.note.split("; looked")[0])  # no server paths on a public page
                continue
            mark = "" if d.same_models_as_vbench else " †"
            row.append(f"{d.estimate.value:.4f} → {d.normalised:.3f}{mark}")
        rows.append(row)
    lines = [text("vbench_help", lang)]
    if unavailable:
        items = "; ".join(f"{dim} ({why})" if why else dim for dim, why in unavailable.items())
        lines.append(text("vbench_unavailable", lang, items=items))
    lines.append(text("vbench_not_computed", lang, dims=", ".join(d["dimension"] for d in view.not_computed)))
    return pd.DataFrame(rows, columns=columns), "\n\n".join(lines)


class MetricsViews(TypedDict):
    """What the tab shows for one prompt category."""

    note: str
    scores: pd.DataFrame
    vbench: pd.DataFrame
    vbench_note: str
    agreement: pd.DataFrame


def metrics_views(arena: Arena, category: str | None, lang: str) -> MetricsViews:
    cat = None if category in (None, "", "all") else category
    board = arena.metric_board.read_all()  # one read of the scores for every table
    scores = scores_table(arena, cat, lang, board.videos)
    if len(scores) == 0:
        note = text("no_scores", lang)
    else:
        note = "" if arena.metric_board.calibrated() else f"⚠ {text('uncalibrated', lang)}"
        spec = ENCODERS.get(arena.metric_board.encoder)
        if spec is not None and spec.scope:
            note = f"{note}\n\n⚠ {text('shapes_world_only', lang, encoder=arena.metric_board.encoder)}".strip()
    vbench, vbench_note = vbench_table(arena.metric_board.vbench(category=cat, board=board), lang)
    agreement = agreement_table(arena, lang, board.videos)
    return MetricsViews(note=note, scores=scores, vbench=vbench, vbench_note=vbench_note, agreement=agreement)


def build_metrics_tab(arena: Arena) -> gr.Tab:
    categories = sorted({str(p["category"]) for p in arena.prompts.listed()})
    with gr.Tab(t("tab_metrics"), id="metrics") as tab:
        with gr.Row():
            category = gr.Dropdown(
                [("All / 全部", "all"), *[(c, c) for c in categories]], value="all", label=t("prompt_category")
            )
            refresh = gr.Button(t("refresh"), scale=0, size="sm")
        note = gr.Markdown()
        gr.Markdown(t("metrics_md"))
        scores = gr.Dataframe(interactive=False, wrap=True)
        gr.Markdown(t("vbench_md"))
        vbench = gr.Dataframe(interactive=False, wrap=True)
        vbench_note = gr.Markdown()
        gr.Markdown(t("agreement_md"))
        gr.Markdown(t("agreement_help"))
        agreement = gr.Dataframe(interactive=False, wrap=True)

    def show(category: str | None, request: gr.Request) -> dict[Any, Any]:
        views = metrics_views(arena, category, request_language(request))
        return {
            note: views["note"],
            scores: views["scores"],
            vbench: views["vbench"],
            vbench_note: views["vbench_note"],
            agreement: views["agreement"],
        }

    outputs = [note, scores, vbench, vbench_note, agreement]
    refresh.click(show, [category], outputs, api_name="metrics")
    category.change(show, [category], outputs, api_visibility="private")
    tab.select(show, [category], outputs, api_visibility="private")
    return tab
