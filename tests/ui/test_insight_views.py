"""The Leaderboard tab's decision views and the Metrics tab, through the Gradio events of the running app."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import or_, select

from arena.services.scoring import ScoringService
from db.models import Battle, BattleStatus
from db.session import transaction
from tests.ui.conftest import LiveApp
from tests.ui.helpers import client, start_battle, vote


def table_rows(value: Any) -> list[list[Any]]:
    """Rows of a gr.Dataframe value as gradio_client returns it."""
    return list(value["data"]) if isinstance(value, dict) else []


def faced_a_rival(live_app: LiveApp, model: str | None) -> bool:
    sides = or_(Battle.left_model_id == model, Battle.right_model_id == model)
    with transaction(live_app.arena.factory) as session:
        return session.scalar(select(Battle.id).where(Battle.status == BattleStatus.voted, sides).limit(1)) is not None


def test_leaderboard_shows_in_house_view_and_position_bias(live_app: LiveApp) -> None:
    c = client(live_app.url)
    in_house = live_app.arena.leaderboard.in_house_model()
    for n in range(40):  # pairs are drawn at random: at least 8 battles, and until the in-house model was in one
        start_battle(c)
        vote(c, "left")
        if n >= 7 and faced_a_rival(live_app, in_house):
            break
    out = c.predict("any", "all", "category", api_name="/leaderboard")
    summary, _table, forest, _heat, _counts, bias, versus_note, versus, versus_plot, groups, _bars, losses, *style = out
    assert len(style) == 2  # the style-control note and table
    # the count itself may lag by the board's snapshot age (5 s): that votes were counted, in the page's sentence
    # (a note follows it when the models form groups that never met)
    counted = re.match(r"(\d+) votes; models need at least \d+ to be ranked\.", str(summary))
    assert counted and int(counted[1]) > 0 and forest is not None and versus_plot is not None, summary
    assert str(bias).startswith("Position bias: the left video won")
    verdicts = live_app.arena.leaderboard.versus(by="category")
    rivals = {verdicts.names[r.b] for r in verdicts.overall()}
    shown = {row[0] for row in table_rows(versus)}
    assert in_house and shown == rivals, (versus_note, versus)
    # the family is named on the page with its size, and the table's verdicts are the service's
    assert f"over the {verdicts.family_size} verdicts" in str(versus_note) and "Holm" in str(versus_note)
    page = {row[0]: row[1] for row in table_rows(versus)}
    assert page == {
        verdicts.names[r.b]: r.decision + (" (too close to call)" if r.too_close else "") for r in verdicts.overall()
    }
    categories = {str(p["category"]) for p in live_app.arena.prompts.listed()}
    assert {row[1] for row in table_rows(groups)} <= categories
    assert "Prompts where" in str(losses)


def test_metrics_tab_shows_scores_and_agreement(live_app: LiveApp) -> None:
    c = client(live_app.url)
    ScoringService.configured(live_app.arena.factory, live_app.arena.settings).score_all()
    note, scores, vbench, vbench_note, agreement = c.predict("all", api_name="/metrics")
    assert "calibrated for the shapes world only" in str(note) and "uncalibrated" not in str(note)  # shapes-clip
    # VBench view: background consistency computed (tiny CLIP: marked not VBench's model), DINO / RAFT missing
    assert "background_consistency" in vbench["headers"] and "subject_consistency" in vbench["headers"]
    assert all("†" in row[vbench["headers"].index("background_consistency")] for row in table_rows(vbench))
    assert "Unavailable: subject_consistency (no weights found for dino-vitb16" in str(vbench_note)
    assert "motion_smoothness" in str(vbench_note) and "looked" not in str(vbench_note)  # no server paths shown
    header = scores["headers"]
    assert "clipsim" in header and "temporal_flicker" in header
    models = {row[0] for row in table_rows(scores)}
    assert models == {m["display_name"] for m in live_app.arena.leaderboard.models().values() if m["enabled"]}
    assert {row[0] for row in table_rows(agreement)} >= {"clipsim", "temporal_flicker"}
