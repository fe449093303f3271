"""Reports and comparisons of scored runs: the report's numbers match the database, its plots and contact sheets
are there; a comparison finds a planted regression and finds none between two runs of one generator; the CLI and
the JSON API give the same numbers."""

from __future__ import annotations

import base64
import io
import json
import re
import statistics
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from adapters.errors import ConfigError
from arena.api import create_api
from arena.bench.compare import compare_runs
from arena.bench.report import render_report
from arena.bench.results import human_ratings, load_run, run_video_ids
from arena.bench.runner import BenchRunner, RunOptions
from arena.cli import build_app
from arena.ratings.battles import BattleRows
from arena.ratings.board import leaderboard
from arena.services.container import Arena
from db.models import MetricScore, Video
from db.session import transaction
from metrics.board import metric_poolings
from tests.bench.conftest import bench_settings, env_for

PROMPTS = 12  # core prompts (people), English: enough prompts for per-prompt t intervals


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Arena, dict[str, str]]]:
    """Scored runs: base (faithful + jitter-a), new (flicker + jitter-b), again (the base plan once more)."""
    root = tmp_path_factory.mktemp("scored")
    arena = Arena.create(bench_settings(root))
    runner = BenchRunner(arena)
    common = {"suite": "core", "limit": PROMPTS, "language": "en"}
    runs = {
        "base": runner.run(RunOptions(models=["demo-faithful", "jitter-a"], **common)).run_id,  # type: ignore[arg-type]
        "new": runner.run(RunOptions(models=["demo-flicker", "jitter-b"], **common)).run_id,  # type: ignore[arg-type]
        "again": runner.run(RunOptions(models=["demo-faithful", "jitter-a"], **common)).run_id,  # type: ignore[arg-type]
    }
    for n in range(12):  # human votes on pool battles (the runs used the arena's request: their videos are the pool)
        battle = arena.battles.start(f"voter-{n}", language="en")
        arena.votes.vote(battle.id, f"voter-{n}", "left")
    yield arena, runs
    arena.close()


def _values_from_database(arena: Arena, run_id: str) -> dict[tuple[str, str], float]:
    """(model, metric) -> the pooled value straight from the tables: the mean over videos, or VBench's pooling
    over frame pairs (Σ pairs·value / Σ pairs) for the consistency metrics."""
    ids = run_video_ids(arena.factory, run_id)
    grouped: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
    with transaction(arena.factory) as session:
        rows = session.execute(
            select(Video.model_id, MetricScore.metric, MetricScore.value, MetricScore.details)
            .join(Video, Video.id == MetricScore.video_id)
            .where(Video.id.in_(ids), MetricScore.value.is_not(None), MetricScore.metric != "facts")
        )
        for model, metric, value, details in rows:
            grouped[(model, metric)].append((value, int(details.get("pairs") or 0)))
    poolings = metric_poolings()
    out = {}
    for (model, metric), values in grouped.items():
        if poolings[metric] == "pairs":
            out[(model, metric)] = sum(v * p for v, p in values) / sum(p for _, p in values)
        else:
            out[(model, metric)] = statistics.fmean(v for v, _ in values)
    return out


def test_report_numbers_match_the_database_and_plots_and_sheets_are_there(
    scored: tuple[Arena, dict[str, str]],
) -> None:
    arena, runs = scored
    data = load_run(arena, runs["base"])
    ratings = human_ratings(arena, data.models)
    page = render_report(data, ratings, arena.media, samples=4)
    expected = _values_from_database(arena, runs["base"])
    cells = re.findall(r'data-model="([^"]+)" data-metric="([^"]+)" data-category="all" data-value="([^"]+)"', page)
    assert len(cells) == len(expected) == 2 * len(data.metrics) >= 8
    for model, metric, value in cells:
        assert float(value) == pytest.approx(expected[(model, metric)], abs=1e-6)
    embedded = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)[1])
    assert embedded["run"]["id"] == runs["base"] and embedded["run"]["videos"] == 2 * PROMPTS
    assert embedded["metrics"]["demo-faithful"]["temporal_flicker"]["videos"] == PROMPTS
    assert {m["model_id"] for m in embedded["vbench"]["models"]} == {"demo-faithful", "jitter-a"}
    assert 'class="vbench-table"' in page and "normalised" in page
    # plotly.js is inside the file (no CDN, no network), and the figures are there
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", page)
    assert len(page) > 3_000_000 and page.count('class="plotly-graph-div"') == 2 + len(data.metrics)
    # contact sheets: every sampled prompt, a strip from every model, decodable PNGs of 4 frames
    strips = re.findall(r'<img class="strip" alt="([^"]+)" src="data:image/png;base64,([^"]+)"', page)
    assert len(strips) == 4 * 2 and {m for m, _ in strips} == {"demo-faithful", "jitter-a"}
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(strips[0][1]))))
    assert image.shape[0] == 96 and image.shape[1] > 4 * 96 and image.std() > 0
    # human ratings beside the metrics, where votes exist
    assert ratings, "the fixture's votes give ratings"
    for rating in ratings.values():
        assert f'data-rating="{rating["rating"]}"' in page
    assert page.count("no votes") == 2 - len(ratings)


def test_report_prints_open_interval_ends_of_a_separated_model(scored: tuple[Arena, dict[str, str]]) -> None:
    """An unbeaten model has no upper interval end (and its victim no lower one): the report says "≥ lo" / "≤ hi"
    rather than failing on the missing number; a model without a decisive vote says "insufficient"."""
    arena, runs = scored
    data = load_run(arena, runs["base"])
    unbeaten = [{"model_a": "demo-faithful", "model_b": "jitter-a", "winner": "model_a"}] * 8
    board = leaderboard(BattleRows.from_records(unbeaten), bootstrap_rounds=50)
    ratings = {
        e.model: {"rating": e.rating, "ci": list(e.interval), "insufficient": e.insufficient, "votes": e.votes}
        for e in board.entries
    }
    (low, top), (bottom, high) = ratings["demo-faithful"]["ci"], ratings["jitter-a"]["ci"]
    assert top is None and bottom is None and low is not None and high is not None
    page = render_report(data, ratings, arena.media, samples=1)
    assert f"≥ {low:.0f} · 8 votes" in page and f"≤ {high:.0f} · 8 votes" in page
    ties = [{"model_a": "demo-faithful", "model_b": "jitter-a", "winner": "tie"}] * 4
    tied = leaderboard(BattleRows.from_records(ties), bootstrap_rounds=50)
    ratings = {
        e.model: {"rating": e.rating, "ci": list(e.interval), "insufficient": e.insufficient, "votes": e.votes}
        for e in tied.entries
    }
    assert all(r["insufficient"] for r in ratings.values())
    assert render_report(data, ratings, arena.media, samples=1).count("insufficient · 4 votes") == 2


def test_comparison_finds_a_planted_regression(scored: tuple[Arena, dict[str, str]]) -> None:
    arena, runs = scored
    base, new = load_run(arena, runs["base"]), load_run(arena, runs["new"])
    result = compare_runs(base, new, pairs=[("demo-faithful", "demo-flicker")])
    overall = {c.metric: c for c in result.cells if c.category == "all"}
    assert overall["temporal_flicker"].verdict == "worse"
    decision = overall["temporal_flicker"].decision
    assert decision.high is not None and decision.high < 0 and decision.adjusted_p is not None
    assert decision.adjusted_p < 0.05 and result.units == PROMPTS
    assert result.worst and all(w.score < 0 for w in result.worst)
    worst = result.worst[0]
    assert (worst.video_a.model_id, worst.video_b.model_id) == ("demo-faithful", "demo-flicker")
    assert worst.video_a.unit == worst.video_b.unit
    page = render_report(new, {}, arena.media, comparison=result, samples=1)
    assert page.count("<video controls") == 2 * len(result.worst)
    assert "<td class='worse'>worse</td>" in page


def test_comparison_finds_nothing_between_two_runs_of_one_generator(scored: tuple[Arena, dict[str, str]]) -> None:
    arena, runs = scored
    base, new, again = (load_run(arena, runs[k]) for k in ("base", "new", "again"))
    noise = compare_runs(base, new, pairs=[("jitter-a", "jitter-b")])  # same generator, independent noise
    assert noise.claims() == []
    assert sum(c.decision.p_value is not None for c in noise.cells) >= 10
    same = compare_runs(base, again)  # the same videos: every comparison says identical
    assert same.claims() == [] and {c.verdict for c in same.cells if c.prompts >= 2} == {"identical"}
    # where under 2 prompts have a value (motion_direction: few of these prompts name a direction), no verdict
    assert {c.verdict for c in same.cells if c.prompts < 2} <= {"insufficient data"}
    with pytest.raises(ConfigError, match="share no model"):
        compare_runs(base, new)


def test_runs_of_different_suites_or_seeds_are_not_compared(
    scored: tuple[Arena, dict[str, str]], tmp_path: Path
) -> None:
    arena, runs = scored
    base = load_run(arena, runs["base"])
    other = BenchRunner(arena).run(RunOptions(suite="smoke", models=["demo-faithful"], language="en", score=False))
    with pytest.raises(ConfigError, match="not comparable"):
        compare_runs(base, load_run(arena, other.run_id))
    seeds = BenchRunner(arena).run(
        RunOptions(suite="core", limit=PROMPTS, language="en", models=["demo-faithful"], seeds=(1,), score=False)
    )
    with pytest.raises(ConfigError, match="different seeds"):
        compare_runs(base, load_run(arena, seeds.run_id))


def test_cli_report_and_compare_and_json_api(
    scored: tuple[Arena, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arena, runs = scored
    for name, value in env_for(arena.settings).items():
        monkeypatch.setenv(name, value)
    cli = CliRunner()
    out = tmp_path / "report.html"
    made = cli.invoke(
        build_app(), ["bench", "report", runs["new"], "--out", str(out), "--csv", str(tmp_path / "m.csv")]
    )
    assert made.exit_code == 0, made.output
    assert out.stat().st_size > 3_000_000 and (tmp_path / "m.csv").read_text().startswith("run,category,model,metric")
    as_json = json.loads(cli.invoke(build_app(), ["bench", "report", runs["new"], "--json"]).output)
    args = ["bench", "compare", runs["base"], runs["new"], "--pair", "demo-faithful=demo-flicker"]
    compared = cli.invoke(build_app(), [*args, "--json"])
    assert compared.exit_code == 0, compared.output
    verdicts = {(c["metric"], c["category"]): c["verdict"] for c in json.loads(compared.output)["cells"]}
    assert verdicts[("temporal_flicker", "all")] == "worse"
    assert "worse" in cli.invoke(build_app(), args).output
    missing = cli.invoke(build_app(), ["bench", "report", "no-such-run", "--json"])
    assert missing.exit_code == 2 and "no run 'no-such-run'" in missing.output

    client = TestClient(create_api(arena))
    listed = client.get("/api/runs").json()
    assert {r["id"] for r in listed} >= set(runs.values())
    body = client.get(f"/api/runs/{runs['new']}").json()
    assert body["metrics"] == as_json["metrics"] and body["run"]["id"] == runs["new"]
    assert "seeds" in as_json["run"] and "seeds" not in body["run"]  # the secret pool seeds stay with the operator
    assert str(as_json["run"]["seeds"][0]) not in json.dumps(body)
    api_cmp = client.get(
        f"/api/runs/{runs['base']}/compare/{runs['new']}", params={"pair": "demo-faithful=demo-flicker"}
    )
    assert api_cmp.status_code == 200 and "worst_prompts" not in api_cmp.json()  # per-prompt: operator's report only
    assert {(c["metric"], c["category"]): c["verdict"] for c in api_cmp.json()["cells"]} == verdicts
    assert client.get("/api/runs/nope").json() == {"error": {"code": "unknown_run", "reason": "no such run"}}
    assert client.get("/api/runs/" + "x" * 40).status_code == 422  # ids are checked before any lookup
    refused = client.get(f"/api/runs/{runs['base']}/compare/{runs['new']}")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_comparable"
    board = client.get("/api/metrics", params={"language": "en"}).json()
    assert board["calibrated"] is True and {r["model_id"] for r in board["rows"]} >= {"demo-faithful", "jitter-b"}
    assert {a["metric"] for a in board["agreement"]} >= {"temporal_flicker", "clipsim"}


def test_run_answers_are_typed_and_the_public_ones_leave_out_the_operators_fields(
    scored: tuple[Arena, dict[str, str]],
) -> None:
    """The run routes answer their JSON types (documented in /api/openapi.json); what the public types leave out
    of the operator's is exactly the seeds, the failure texts and the per-prompt rows; every answer carries the
    fields its type names, no more."""
    from arena.bench import schema as s

    arena, runs = scored
    assert set(s.RunInfoJSON.__annotations__) - set(s.PublicRunInfoJSON.__annotations__) == {"seeds"}
    assert set(s.ComparisonJSON.__annotations__) - set(s.PublicComparisonJSON.__annotations__) == {"worst_prompts"}
    openapi = create_api(arena).openapi()

    def answer(path: str) -> dict[str, object]:
        return openapi["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]

    assert answer("/api/runs")["items"] == {"$ref": "#/components/schemas/RunListRowJSON"}
    assert answer("/api/runs/{run_id}") == {"$ref": "#/components/schemas/PublicRunJSON"}
    assert answer("/api/runs/{run_a}/compare/{run_b}") == {"$ref": "#/components/schemas/PublicComparisonJSON"}
    components = openapi["components"]["schemas"]
    assert "seeds" not in components["PublicRunInfoJSON"]["properties"]
    assert set(components["PublicRunJSON"]["properties"]) == set(s.PublicRunJSON.__annotations__)

    client = TestClient(create_api(arena))
    body = client.get(f"/api/runs/{runs['new']}").json()
    assert set(body) == set(s.PublicRunJSON.__annotations__)
    assert set(body["run"]) == set(s.PublicRunInfoJSON.__annotations__)
    [listed] = [r for r in client.get("/api/runs").json() if r["id"] == runs["new"]]
    assert set(listed) == set(s.RunListRowJSON.__annotations__)
    compared = client.get(
        f"/api/runs/{runs['base']}/compare/{runs['new']}", params={"pair": "demo-faithful=demo-flicker"}
    ).json()
    assert set(compared) == set(s.PublicComparisonJSON.__annotations__)
    assert compared["cells"] and all(set(c) == set(s.CellJSON.__annotations__) for c in compared["cells"])

    data = load_run(arena, runs["new"])
    full = data.to_json(
        human_ratings(arena, data.models),
        compare_runs(load_run(arena, runs["base"]), data, [("demo-faithful", "demo-flicker")]).to_json(),
    )
    assert set(full) == set(s.RunJSON.__annotations__) and set(full["run"]) == set(s.RunInfoJSON.__annotations__)
    worst = full["comparison"]["worst_prompts"]
    assert worst and all(set(w) == set(s.WorstPromptJSON.__annotations__) for w in worst)
    assert {k: v for k, v in full.items() if k not in ("run", "failures", "comparison")} == {
        k: v for k, v in body.items() if k not in ("run", "failures")
    }
