"""The Leaderboard tab's decision views and the Metrics tab, through the Gradio events of the running app."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import LiveApp
from tests.ui.helpers import client, start_battle, vote


def table_rows(value: Any) -> list[list[Any]]:
    """Rows of a gr.Dataframe value as gradio_client returns it."""
    return list(value["data"]) if isinstance(value, dict) else []


def test_leaderboard_shows_in_house_view_and_position_bias(live_app: LiveApp) -> None:
    c = client(live_app.url)
    for _ in range(8):
        start_battle(c)
        vote(c, "left")
    summary, _table, _heat, _counts, bias, versus_note, versus = c.predict("any", "all", api_name="/leaderboard")
    assert "votes" in str(summary)
    assert str(bias).startswith("Position bias: the left video won")
    in_house = live_app.arena.leaderboard.in_house_model()
    rivals = {r["rival_name"] for r in live_app.arena.leaderboard.versus()["rows"]}
    shown = {row[0] for row in table_rows(versus)}
    assert in_house and shown == rivals, (versus_note, versus)


def test_metrics_tab_shows_scores_and_agreement(live_app: LiveApp) -> None:
    c = client(live_app.url)
    live_app.arena.score_pool()
    note, scores, vbench, vbench_note, agreement = c.predict("all", api_name="/metrics")
    assert "uncalibrated" in str(note)
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
