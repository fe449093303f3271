"""Views of the Leaderboard tab beyond the ranked table: the in-house model against each rival, position bias,
the raters, and boards per prompt category and language. Plain functions over service data."""

from __future__ import annotations

from typing import Any

import pandas as pd

from arena.services.leaderboard import VoteSnapshot
from arena.ui.i18n import text


def _fmt(x: float | None, spec: str = ".0f") -> str:
    return "–" if x is None else format(x, spec)


def versus_view(snap: VoteSnapshot, lang: str) -> tuple[str, pd.DataFrame]:
    """(summary, table) of the in-house model against each rival."""
    cols = ("rival", "gap", "p_better", "h2h", "to_settle")
    headers = [text(f"col_{c}", lang) for c in cols]
    versus = snap.versus()
    if not versus["rows"]:
        return text("no_in_house", lang), pd.DataFrame(columns=headers)
    rows = [
        [
            r["rival_name"],
            f"{r['diff']:+.0f} ({_fmt(r['diff_low'], '+.0f')} … {_fmt(r['diff_high'], '+.0f')})",
            "–" if r["p_in_house_better"] is None else f"{100 * r['p_in_house_better']:.0f} %",
            f"{r['in_house_wins']}–{r['rival_wins']}–{r['ties']}",
            "–" if r["votes_to_settle"] is None else str(r["votes_to_settle"]),
        ]
        for r in versus["rows"]
    ]
    return text("versus_summary", lang, model=versus["in_house_name"]), pd.DataFrame(rows, columns=headers)


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


def group_boards(snap: VoteSnapshot, field: str, lang: str) -> pd.DataFrame:
    """Every per-category (or per-language) board stacked in one table, a group column first."""
    headers = [text(f"col_{c}", lang) for c in ("group", "rank", "model", "rating", "ci", "votes")]
    rows: list[list[Any]] = []
    for group, board in snap.category_boards(field).items():
        for r in board:
            rows.append(
                [group, r["rank"], r["model"], f"{r['rating']:.0f}", f"{r['ci'][0]:.0f} – {r['ci'][1]:.0f}", r["votes"]]
            )
    return pd.DataFrame(rows, columns=headers)
