"""Views of the Leaderboard tab beyond the ranked table: the in-house verdicts (what they promise, the tables),
the prompts the in-house model loses, position bias, the raters, and boards per prompt category and language.
Plain functions over service data."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from arena.ratings.board import interval_text
from arena.services.leaderboard import VoteSnapshot
from arena.services.losses import LosingPrompt
from arena.services.rating_views import StyleView
from arena.services.verdicts import VerdictRow, Verdicts
from arena.ui.i18n import text


def _gap(r: VerdictRow) -> str:
    if r.estimate is None:
        return "–"
    low, high = (("…" if x is None else format(x, "+.0f")) for x in r.interval)
    level = "" if r.level is None else f" @ {100 * r.level:.2f} %"
    return f"{r.estimate:+.0f} ({low} … {high}{level})"


def verdict_table(verdicts: Verdicts, lang: str, *, grouped: bool) -> pd.DataFrame:
    """One row per comparison: rival (and group), verdict, gap with its interval, head to head, votes needed."""
    cols = (
        ("rival", "group", "verdict", "gap", "h2h", "votes_needed")
        if grouped
        else ("rival", "verdict", "gap", "h2h", "votes_needed")
    )
    headers = [text(f"col_{c}", lang) for c in cols]
    names = dict(verdicts.names)
    out = []
    for r in verdicts.rows:
        if bool(r.group) != grouped:
            continue
        verdict = r.decision + (f" ({text('too_close', lang)})" if r.too_close else "")
        cells = {
            "rival": names.get(r.b, r.b),
            "group": ", ".join(r.group.values()),
            "verdict": verdict,
            "gap": _gap(r),
            "h2h": f"{r.wins}–{r.losses}–{r.ties}",
            "votes_needed": "–" if r.votes_needed is None else str(r.votes_needed),
        }
        out.append([cells[c] for c in cols])
    return pd.DataFrame(out, columns=headers)


def promise_note(verdicts: Verdicts, lang: str) -> str:
    """What the page's verdicts promise, with the family named."""
    if not verdicts.rows:
        return text("no_in_house", lang)
    rivals = len({r.b for r in verdicts.rows})
    views = len({tuple(r.group.items()) for r in verdicts.rows})
    return text(
        "promise",
        lang,
        method=verdicts.method_name,
        alpha=f"{100 * verdicts.alpha:g}",
        m=verdicts.family_size,
        rivals=rivals,
        views=views,
        margin=f"{verdicts.margin:g}",
        power=f"{100 * verdicts.power:.0f}",
        gap=f"{verdicts.power_gap:g}",
    )


def losses_view(prompts: list[LosingPrompt], model_name: str, show_clips: bool, lang: str) -> str:
    """HTML: the prompts the in-house model loses most, each with both clips of a lost battle side by side."""
    parts = [f"<h3>{html.escape(text('losses_md', lang, model=model_name).removeprefix('### '))}</h3>"]
    if not prompts:
        return parts[0] + f"<p>{html.escape(text('no_losses', lang))}</p>"
    if not show_clips:
        parts.append(f"<p><em>{html.escape(text('clips_off', lang))}</em></p>")
    for p in prompts:
        record = text("losses_record", lang, wins=p.wins, losses=p.losses, ties=p.ties)
        parts.append(f"<p><strong>{html.escape(p.prompt or p.prompt_id)}</strong> — {html.escape(record)}</p>")
        if p.in_house_clip and p.rival_clip:
            videos = "".join(
                f"<figure style='margin:0'><video src='{html.escape(url)}' controls muted loop width='320'></video>"
                f"<figcaption>{html.escape(label)}</figcaption></figure>"
                for url, label in ((p.in_house_clip, model_name), (p.rival_clip, str(p.rival)))
            )
            parts.append(f"<div style='display:flex;gap:12px'>{videos}</div>")
    return "".join(parts)


def bias_view(snap: VoteSnapshot, lang: str) -> str:
    bias = snap.position_bias()
    if not bias["decisive_votes"]:
        return ""
    lo, hi = bias["ci"]
    return text(
        "bias_summary",
        lang,
        p=f"{100 * bias['p_left']:.0f}",
        n=bias["decisive_votes"],
        lo=f"{100 * lo:.0f}",
        hi=f"{100 * hi:.0f}",
    )


def raters_view(snap: VoteSnapshot, lang: str) -> str:
    """One line on the raters: agreement with the consensus (vote-weighted) and gold-pair failures."""
    summary = snap.rater_summary()
    if not summary["decisive"]:
        return ""
    return text(
        "raters_summary",
        lang,
        n=summary["sessions"],
        agree=f"{100 * summary['agreement']:.0f}",
        expected=f"{100 * summary['expected']:.0f}",
        failed=summary["failed"],
        gold=summary["gold"],
    )


def style_table(style: StyleView, lang: str) -> tuple[str, pd.DataFrame]:
    """(note, table): ratings with and without style held fixed, and the style effects."""
    cols = ("model", "rating", "style_controlled", "shift")
    headers = [text(f"col_{c}", lang) for c in cols]
    if not style.get("rows"):
        return "", pd.DataFrame(columns=headers)
    effects = ", ".join(f"{k} {v['points']:+.0f} ± {v['se']:.0f}" for k, v in style["coefficients"].items())
    rows = [
        [r["model"], f"{r['rating']:.0f}", f"{r['style_controlled']:.0f}", f"{r['shift']:+.0f}"] for r in style["rows"]
    ]
    return text("style_md", lang, effects=effects, battles=style["battles"]), pd.DataFrame(rows, columns=headers)


def group_boards(snap: VoteSnapshot, field: str, lang: str) -> pd.DataFrame:
    """Every per-category (or per-language) board stacked in one table, a group column first."""
    headers = [text(f"col_{c}", lang) for c in ("group", "rank", "model", "rating", "ci", "votes")]
    rows: list[list[Any]] = []
    for group, board in snap.category_boards(field).items():
        for r in board:
            rank = "–" if r["rank"] is None else r["rank"]
            ci = interval_text(r["ci"], r["insufficient"])
            rows.append([group, rank, r["model"], f"{r['rating']:.0f}", ci, r["votes"]])
    return pd.DataFrame(rows, columns=headers)
