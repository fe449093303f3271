"""The HTML report of a run: one self-contained file (plotly.js, images and clips embedded; no network needed).

Sections: the run and its request, metrics per model (95 % intervals) beside the arena's human ratings,
metrics per category, VBench's view (raw and normalised dimensions), latency and peak memory, failures, contact
sheets (a strip of frames from every model, side by side, for a sample of prompts), and optionally a comparison
with an earlier run. The numbers are also embedded as JSON (``<script id="report-data">``), the same as
``arena bench report --json``.
"""

from __future__ import annotations

import html
import json
from typing import Any

from arena.bench.compare import Comparison
from arena.bench.results import ALL, RunData
from arena.bench.schema import HumanRatingJSON
from arena.bench.sheets import frame_strip, mp4_data_uri, png_data_uri, sample_units, sheet
from arena.ratings.board import interval_text
from arena.services.media import MediaStore
from metrics.pooling import Estimate

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#1d2330;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #dde;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #dde;padding:4px 8px;text-align:left}
th{background:#f3f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}.ci{color:#667;font-size:12px}
.warn{background:#fff4e0;border:1px solid #f0c070;padding:8px 12px}.muted{color:#667}
.better{color:#0a7d2c;font-weight:600}.worse{color:#b3261e;font-weight:600}img{display:block}
video{width:256px}
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _estimate_cell(model: str, metric: str, category: str, e: Estimate | None) -> str:
    if e is None:
        return '<td class="num">–</td>'
    data = f'data-model="{esc(model)}" data-metric="{esc(metric)}" data-category="{esc(category)}"'
    return (
        f'<td class="num" {data} data-value="{e.value:.6f}">{e.value:.4f}'
        f'<div class="ci">[{e.low:.4f}, {e.high:.4f}] {e.videos} videos</div></td>'
    )


def _figure_html(figure: Any) -> str:
    return str(figure.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}))


def _colour(index: int) -> str:
    return f"hsl({(index * 67 + 210) % 360},60%,45%)"


def _error_bars(values: list[Estimate]) -> dict[str, Any]:
    return {
        "type": "data",
        "symmetric": False,
        "array": [e.high - e.value for e in values],
        "arrayminus": [e.value - e.low for e in values],
    }


def _model_figure(data: RunData, summary: dict[str, dict[str, Estimate]]) -> str:
    """One small panel per metric: each model's value with its interval (axes fit the values, not zero)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    metrics = data.metrics
    figure = make_subplots(rows=1, cols=max(1, len(metrics)), subplot_titles=metrics)
    for col, metric in enumerate(metrics, 1):
        models = [m for m in data.models if metric in summary.get(m, {})]
        values = [summary[m][metric] for m in models]
        figure.add_trace(
            go.Scatter(
                x=[data.names.get(m, m) for m in models],
                y=[e.value for e in values],
                error_y=_error_bars(values),
                mode="markers",
                marker={"size": 10, "color": [_colour(data.models.index(m)) for m in models]},
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    figure.update_layout(height=300, margin={"t": 40, "b": 40, "l": 40, "r": 10})
    return _figure_html(figure)


def _category_figure(data: RunData, metric: str, by_category: dict[str, dict[str, dict[str, Estimate]]]) -> str:
    import plotly.graph_objects as go

    figure = go.Figure()
    for index, model in enumerate(data.models):
        rows = [(c, by_category[c][model][metric]) for c in data.categories if metric in by_category[c].get(model, {})]
        figure.add_trace(
            go.Scatter(
                x=[c for c, _ in rows],
                y=[e.value for _, e in rows],
                mode="markers",
                marker={"size": 9, "color": _colour(index)},
                name=data.names.get(model, model),
                error_y=_error_bars([e for _, e in rows]),
            )
        )
    figure.update_layout(title=metric, height=300, margin={"t": 40, "b": 60, "l": 40, "r": 10})
    return _figure_html(figure)


def _latency_figure(data: RunData) -> str:
    import plotly.graph_objects as go

    figure = go.Figure()
    for model in data.models:
        latencies = [v.latency_s for v in data.of(model) if v.latency_s is not None]
        figure.add_trace(go.Box(y=latencies, name=data.names.get(model, model), boxpoints="outliers"))
    figure.update_layout(title="seconds per video", height=300, showlegend=False, margin={"t": 40, "b": 40})
    return _figure_html(figure)


def _run_section(data: RunData) -> str:
    info, counts = data.info(), data.counts
    settings = ", ".join(f"{k}={v}" for k, v in data.settings.items() if v not in (None, {}, []))
    snapped = "; ".join(
        f"{m}: " + ", ".join(f"{f} {a}→{u}" for f, (a, u) in fields.items())
        for m, fields in info["snapped"].items()
        if fields
    )
    rows = [
        ("run", data.id),
        ("suite", f"{data.suite} ({len({v.key for v in data.videos})} prompts, language {data.language})"),
        ("models", ", ".join(f"{data.names.get(m, m)} ({m})" for m in data.models)),
        ("seeds", f"indices {info['seed_indices']}: {', '.join(map(str, data.seeds))}"),
        ("request (every model)", settings),
        ("snapped by a model's rules", snapped or "none"),
        (
            "status",
            f"{data.status}: {counts.get('stored', '?')} of {counts.get('jobs', '?')} videos stored, "
            f"{counts.get('failed', 0)} failed in the last attempt",
        ),
        ("backend", data.backend),
        ("started / finished", f"{data.created_at} / {data.finished_at or '–'}"),
        ("metrics encoder", f"{data.encoder} ({'calibrated' if data.calibrated else 'uncalibrated'})"),
    ]
    table = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    warn = (
        ""
        if data.calibrated
        else '<p class="warn">The metrics encoder has random, untrained weights: its CLIP metrics are reproducible '
        "but say nothing about quality. Pixel metrics (temporal flicker, motion) are unaffected.</p>"
    )
    return f'<h2>Run</h2><table id="run-table">{table}</table>{warn}'


def _metrics_section(data: RunData, ratings: dict[str, HumanRatingJSON]) -> str:
    summary = data.summary()
    head = "".join(f"<th>{esc(m)}{' ↑' if data.directions.get(m) else ''}</th>" for m in data.metrics)
    rows = []
    for model in data.models:
        cells = "".join(_estimate_cell(model, m, ALL, summary.get(model, {}).get(m)) for m in data.metrics)
        rating = ratings.get(model)
        human = (
            f'<td class="num" data-rating="{rating["rating"]}">{rating["rating"]:.0f}'
            f'<div class="ci">{esc(interval_text(rating["ci"], rating["insufficient"]))} · '
            f"{rating['votes']} votes</div></td>"
            if rating
            else '<td class="muted">no votes</td>'
        )
        rows.append(f"<tr><th>{esc(data.names.get(model, model))}</th>{human}{cells}</tr>")
    table = f'<table id="metrics-table"><tr><th>model</th><th>human rating (BT)</th>{head}</tr>{"".join(rows)}</table>'
    note = (
        '<p class="muted">Each metric pooled over the run\'s videos as the metric board pools it (the mean with a t '
        "interval; VBench's consistency over every frame pair; a share with a Wilson interval), 95 % intervals; "
        "↑ higher is better. Human ratings: the arena's Bradley–Terry rating with its 95 % bootstrap interval, "
        "where votes exist.</p>"
    )
    return f"<h2>Metrics per model</h2>{note}{table}{_model_figure(data, summary)}"


def _categories_section(data: RunData) -> str:
    by_category = {c: data.summary(c) for c in data.categories}
    parts = ["<h2>Metrics per category</h2>"]
    for metric in data.metrics:
        head = "".join(f"<th>{esc(data.names.get(m, m))}</th>" for m in data.models)
        rows = "".join(
            f"<tr><th>{esc(c)}</th>"
            + "".join(_estimate_cell(m, metric, c, by_category[c].get(m, {}).get(metric)) for m in data.models)
            + "</tr>"
            for c in data.categories
        )
        parts.append(
            f'<h3>{esc(metric)}</h3><table class="category-table"><tr><th>category</th>{head}</tr>{rows}</table>'
        )
        parts.append(_category_figure(data, metric, by_category))
    return "".join(parts)


def _vbench_section(data: RunData) -> str:
    """VBench's dimensions per model: raw value (pooled as VBench pools) and normalised as its leaderboard."""
    view = data.board.vbench
    parts = ["<h2>On VBench's terms</h2>"]
    for model in view.models:
        rows = "".join(
            f"<tr><td>{esc(d.dimension)}</td><td>{esc(d.group)}</td><td>{esc(d.status)}</td>"
            + (
                f'<td class="num">{d.estimate.value:.4f}<div class="ci">[{d.estimate.low:.4f}, '
                f"{d.estimate.high:.4f}]</div></td><td class='num'>{_num(d.normalised)}</td>"
                if d.estimate is not None
                else "<td>–</td><td>–</td>"
            )
            + f"<td class='muted'>{esc(d.note)}</td></tr>"
            for d in model.dimensions
        )
        head = "<tr><th>dimension</th><th>group</th><th>status</th><th>raw</th><th>normalised</th><th>note</th></tr>"
        parts.append(f'<h3>{esc(model.model)}</h3><table class="vbench-table">{head}{rows}</table>')
    missing = ", ".join(d["dimension"] for d in view.not_computed)
    notes = "".join(f"<li>{esc(n)}</li>" for n in view.notes)
    parts.append(f'<p class="muted">Not computed here: {esc(missing)}.</p><ul class="muted">{notes}</ul>')
    return "".join(parts)


def _speed_section(data: RunData) -> str:
    rows = []
    for model, s in data.speed().items():
        memory = f"{s['peak_memory_bytes'] / 2**20:.0f} MiB ({s['memory_kind']})" if s["peak_memory_bytes"] else "–"
        rows.append(
            f"<tr><th>{esc(data.names.get(model, model))}</th><td class='num'>{s['videos']}</td>"
            f"<td class='num'>{_num(s['latency_median_s'], 3)}</td><td class='num'>{_num(s['latency_p90_s'], 3)}</td>"
            f"<td class='num'>{esc(memory)}</td></tr>"
        )
    head = "<tr><th>model</th><th>videos</th><th>median s</th><th>p90 s</th><th>peak memory</th></tr>"
    return (
        f'<h2>Latency and peak memory</h2><table id="speed-table">{head}{"".join(rows)}</table>{_latency_figure(data)}'
    )


def _failures_section(data: RunData) -> str:
    if not data.failures:
        return '<h2>Failures</h2><p id="failures">none</p>'
    rows = "".join(
        f"<tr><td>{esc(f['model'])}</td><td>{esc(f['kind'])}</td><td>{esc(f['prompt_id'])}</td>"
        f"<td>{esc(f['reason'])}</td></tr>"
        for f in data.failures
    )
    head = "<tr><th>model</th><th>kind</th><th>prompt</th><th>reason</th></tr>"
    return f'<h2>Failures</h2><table id="failures">{head}{rows}</table>'


def _sheets_section(data: RunData, media: MediaStore, samples: int) -> str:
    parts = ["<h2>Contact sheets</h2>"]
    for unit in sample_units(data, samples):
        strips = sheet(data, unit, media.path)
        text = strips[0][1].text if strips else unit[0]
        rows = "".join(
            f'<tr><th>{esc(data.names.get(m, m))}</th><td><img class="strip" alt="{esc(m)}" src="{uri}"></td></tr>'
            for m, _, uri in strips
        )
        parts.append(f'<h3>{esc(text)} <span class="muted">({esc(unit[0])}, seed {unit[2]})</span></h3>')
        parts.append(f'<table class="sheet">{rows}</table>')
    return "".join(parts)


def _comparison_section(cmp: Comparison, media: MediaStore) -> str:
    titles = ("A → B", "metric", "category", "prompts", "B − A", "interval", "verdict")
    head = "<tr>" + "".join(f"<th>{t}</th>" for t in titles) + "</tr>"
    rows = []
    for c in cmp.cells:
        if c.category != ALL and c.verdict not in ("better", "worse", "higher", "lower"):
            continue
        d = c.decision
        span = f"[{d.low:+.4f}, {d.high:+.4f}] at {d.level:.4f}" if d.low is not None and d.level is not None else "–"
        rows.append(
            f"<tr><td>{esc(c.model_a)} → {esc(c.model_b)}</td><td>{esc(c.metric)}</td><td>{esc(c.category)}</td>"
            f"<td class='num'>{c.prompts}</td><td class='num'>{_num(d.estimate)}</td><td>{esc(span)}</td>"
            f"<td class='{esc(c.verdict)}'>{esc(c.verdict)}</td></tr>"
        )
    family = sum(c.decision.p_value is not None for c in cmp.cells)
    intro = (
        f"<p>Run {esc(cmp.run_b)} against {esc(cmp.run_a)}: paired over {cmp.units} (prompt, language, seed) units. "
        f"The chance of any false verdict among all {family} comparisons (every pair, metric and category, shown "
        f"or not) is at most {cmp.alpha:g} ({esc(cmp.method)}). Per-category rows are listed when they claim.</p>"
    )
    worst = []
    for w in cmp.worst:
        clips = "".join(
            f"<td><video controls muted loop src='{mp4_data_uri(media.path(v.file_path))}'></video>"
            f"<img src='{png_data_uri(frame_strip(media.path(v.file_path)))}' alt='strip'></td>"
            for v in (w.video_a, w.video_b)
        )
        worst.append(
            f"<tr><td>{esc(w.text)}<div class='ci'>{esc(w.key)}, change {w.score:+.2f} sd</div></td>{clips}</tr>"
        )
    worst_table = (
        f'<h3>Prompts that got most worse</h3><table id="worst"><tr><th>prompt</th><th>A ({esc(cmp.run_a)})</th>'
        f"<th>B ({esc(cmp.run_b)})</th></tr>{''.join(worst)}</table>"
        if worst
        else "<p>No prompt got worse on the metrics with a direction.</p>"
    )
    return f'<h2>Comparison</h2>{intro}<table id="comparison">{head}{"".join(rows)}</table>{worst_table}'


def render_report(
    data: RunData,
    ratings: dict[str, HumanRatingJSON],
    media: MediaStore,
    comparison: Comparison | None = None,
    samples: int = 6,
) -> str:
    from plotly.offline import get_plotlyjs

    body = data.to_json(ratings, comparison.to_json() if comparison else None)
    payload = json.dumps(body, ensure_ascii=False).replace("</", "<\\/")
    sections = [
        _run_section(data),
        _metrics_section(data, ratings),
        _categories_section(data),
        _vbench_section(data),
        _speed_section(data),
        _failures_section(data),
        _sheets_section(data, media, samples),
        _comparison_section(comparison, media) if comparison else "",
    ]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Benchmark run {esc(data.id)}</title>"
        f"<style>{CSS}</style><script>{get_plotlyjs()}</script></head><body>"
        f"<h1>Benchmark run {esc(data.id)}</h1>{''.join(sections)}"
        f'<script type="application/json" id="report-data">{payload}</script></body></html>'
    )
