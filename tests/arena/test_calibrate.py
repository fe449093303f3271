"""`arena calibrate`: the demo generators' built-in order and flaws, recovered end to end (pool, scores with the
shapes-world CLIP, simulated voters through a real server on 127.0.0.1, the simulated board, verdicts, position
bias, gold checks). The quick run is marked `slow` (`make test-slow`, which CI runs); the full run is marked
`calibration` (run by hand with `pytest -m calibration`). benchmarks/calibrate_lineup.py simulates the quick run's
voters on its pool draws: see the README for its chance of tau >= 0.9."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arena.cli import build_app
from arena.simulation.calibrate import LINEUP, QUICK_BIASED_VOTES, QUICK_VOTES, Plan, calibrate
from arena.simulation.report import _metric_checks, render


def _check(report: dict[str, object]) -> None:
    checks = report["checks"]
    assert isinstance(checks, dict)
    failed = [name for name, ok in checks.items() if not ok]
    assert not failed, (failed, json.dumps(report, indent=1)[:4000])


@pytest.mark.slow
def test_arena_calibrate_quick_recovers_the_built_in_order(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["calibrate", "--json", "--quick", "--keep", str(tmp_path / "run")])
    report = json.loads(result.output)
    assert report["kendall_tau"] >= 0.9, report["board"]
    assert report["built_in_order"] == [g.id for g in LINEUP]
    assert set(report["checks"]) >= {
        "Kendall tau >= 0.9",
        "no wrong verdict",
        "position bias detected when injected",
        "no position bias detected when absent",
        "gold checks flag the careless voters",
        "text alignment: demo-faithful above demo-wrong-colour",
        "text alignment: demo-faithful above demo-wrong-object",
        "temporal_flicker: demo-flicker last",
        "motion_amount: demo-frozen last",
        "motion_direction: demo-frozen near 0 (|mean| < 0.05)",
        "motion_direction: demo-faithful above 0.5",
    }
    _check(report)
    assert result.exit_code == 0
    votes = report["votes"]
    assert votes["crowd"]["cast"] == 10 * QUICK_VOTES and votes["left-leaning crowd"]["cast"] == 3 * QUICK_BIASED_VOTES
    assert (tmp_path / "run" / "arena.db").is_file()  # --keep keeps the run


@pytest.mark.calibration
def test_arena_calibrate_full_run(tmp_path: Path) -> None:
    report = calibrate(Plan(), workdir=tmp_path)
    print(render(report))
    _check(report.to_json())


def test_metric_checks_name_the_model_each_metric_ranks_last() -> None:
    lineup = [g.id for g in LINEUP]
    still = "motion_direction: demo-frozen near 0 (|mean| < 0.05)"
    faithful = "motion_direction: demo-faithful above 0.5"
    # motion_direction pooled over a quick run's pool (seed 0: H.264 clips, so the frozen one is not exactly 0)
    direction = dict(zip(lineup, (0.965, 0.684, 0.955, 0.969, 0.933, 0.012), strict=True))
    means = {m: {"motion_direction": v, "clipsim": 0.5} for m, v in direction.items()}
    checks = _metric_checks(means, lineup)[1]
    assert checks[still] and checks[faithful]
    means["demo-flicker"]["motion_direction"] = -0.5  # moving the wrong way ranks below standing still: no failure
    assert all(_metric_checks(means, lineup)[1][c] for c in (still, faithful))
    broken_cases = (("demo-frozen", -0.2, still), ("demo-frozen", 0.06, still), ("demo-faithful", 0.3, faithful))
    for model, score, check in broken_cases:
        broken = {m: dict(v) for m, v in means.items()}
        broken[model]["motion_direction"] = score
        assert not _metric_checks(broken, lineup)[1][check], (model, score)
    assert "motion_amount: demo-frozen last" not in checks  # a metric with no values makes no check
    flicker = {m: {"temporal_flicker": 0.99 - 0.01 * i} for i, m in enumerate(lineup)}
    flicker["demo-flicker"]["temporal_flicker"] = 0.5
    summary, named = _metric_checks(flicker, lineup)
    assert summary["lowest"] == {"temporal_flicker": "demo-flicker"} and named["temporal_flicker: demo-flicker last"]
    flicker["demo-frozen"]["temporal_flicker"] = 0.4
    summary, named = _metric_checks(flicker, lineup)
    assert summary["lowest"] == {"temporal_flicker": "demo-frozen"} and not named["temporal_flicker: demo-flicker last"]
    assert "motion_direction: demo-frozen last" not in checks  # not guaranteed, so not checked
