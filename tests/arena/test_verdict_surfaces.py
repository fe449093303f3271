"""The page, the JSON API and the CLI give the same verdicts for the same votes; the page's filters hold in its
verdicts and losing prompts; the verdict routes refuse bad input in the documented format; the losing-prompts
view shows named clips only when the arena allows it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from arena.api import create_api
from arena.cli import build_app
from arena.services.container import Arena
from db.models import Battle
from db.session import transaction
from tests.support.servers import ThreadedServer

WORKING = ["alpha-7b", "beta-v2", "gamma-x"]


def play(arena: Arena, n: int) -> None:
    """Votes where alpha-7b wins most of its battles and loses every one on the 'colour' prompt."""
    for k in range(n):
        view = arena.battles.start("s1")
        with transaction(arena.factory) as db:
            battle = db.get_one(Battle, view.id)
            left, category = battle.left_model_id, battle.prompt.category
        if "alpha-7b" in (left, battle.right_model_id):
            alpha_left = left == "alpha-7b"
            alpha_wins = category != "colour" and k % 5 != 0
            choice = "left" if alpha_left == alpha_wins else "right"
        else:
            choice = ("left", "right", "tie")[k % 3]
        arena.votes.vote(view.id, "s1", choice)


@pytest.fixture
def played(arena_factory: Callable[..., Arena]) -> Arena:
    arena = arena_factory(in_house_model="alpha-7b", matchmaking="uniform", gold_rate=0.0, leaderboard_clips=True)
    arena.pool_videos.fill(models=WORKING)
    play(arena, 60)
    return arena


@pytest.fixture
def server(played: Arena) -> Iterator[ThreadedServer]:
    srv = ThreadedServer(create_api(played)).start()
    yield srv
    srv.stop()


def _key(row: dict) -> tuple:
    rival = row.get("rival", row.get("b"))
    return rival, tuple(sorted(row.get("group", {}).items()))


def test_page_api_and_cli_agree(played: Arena, server: ThreadedServer, tmp_path: Path, monkeypatch) -> None:
    from arena.ui.leaderboard import leaderboard_views

    with httpx.Client(base_url=server.url, timeout=60) as http:
        api = http.get("/api/versus", params={"by": "category"}).json()
    assert api["in_house"] == "alpha-7b" and api["method"] == "holm" and api["family_size"] >= 2
    api_verdicts = {_key(r): r["decision"] for r in api["rows"]}
    assert {r["decision"] for r in api["rows"]} <= {"better", "worse", "equivalent", "undecided", "insufficient data"}

    # the page: the same family, the same verdicts (overall table and per-category table)
    views = leaderboard_views(played, "any", "all", "category", "en")
    page = {(r[0], ()): r[1].split(" (")[0] for r in views["versus"].itertuples(index=False)}
    names = api["names"]
    assert page == {(names[k[0]], ()): v for k, v in api_verdicts.items() if not k[1]}
    assert len(views["groups"]) == sum(1 for k in api_verdicts if k[1])

    # the CLI on the database
    monkeypatch.setenv("ARENA_DATABASE_URL", played.settings.database_url)
    monkeypatch.setenv("ARENA_IN_HOUSE_MODEL", "alpha-7b")
    monkeypatch.setenv("ARENA_MIN_VOTES", str(played.settings.min_votes))
    res = CliRunner().invoke(
        build_app(), ["ratings", "--json", "--bootstrap", "0", "--in-house", "alpha-7b", "--by", "category"]
    )
    assert res.exit_code == 0, res.output
    from_db = json.loads(res.output)
    assert {_key(r): r["decision"] for r in from_db["versus"]} == api_verdicts
    assert from_db["verdicts"]["family_size"] == api["family_size"]

    # the CLI on the same battles exported to a file (file order = vote order)
    path = tmp_path / "battles.jsonl"
    path.write_text("\n".join(json.dumps(r, default=str) for r in played.leaderboard.rows()), encoding="utf-8")
    res = CliRunner().invoke(
        build_app(),
        [
            *("ratings", "--battles", str(path), "--json", "--bootstrap", "0", "--in-house", "alpha-7b"),
            "--by",
            "category",
            "--min-votes",
            str(played.settings.min_votes),
        ],
    )
    assert res.exit_code == 0, res.output
    from_file = json.loads(res.output)["versus"]
    assert {_key(r): r["decision"] for r in from_file} == api_verdicts
    for entry in from_file:
        decided = entry["decided_at"]
        if entry["decision"] in ("undecided", "insufficient data"):
            assert decided is None
        else:
            assert decided is not None and 1 <= decided <= 60


def _records(rows: list[dict], model: str) -> dict[str, tuple[int, int, int]]:
    """The model's wins, losses and ties against each rival, counted from per-vote rows."""
    out: dict[str, list[int]] = {}
    for r in rows:
        if model not in (r["model_a"], r["model_b"]):
            continue
        mine = "model_a" if r["model_a"] == model else "model_b"
        rival = r["model_b"] if mine == "model_a" else r["model_a"]
        tally = out.setdefault(rival, [0, 0, 0])
        tally[0 if r["winner"] == mine else 2 if r["winner"].startswith("tie") else 1] += 1
    return {k: (w, lo, t) for k, (w, lo, t) in out.items()}


def _check_filters(played: Arena, http: httpx.Client, language: str, category: str) -> None:
    """With a filter set, the page's verdict table and the API's count only the filtered votes (records checked
    against the per-vote audit read), and the losing prompts come from the filtered prompts only."""
    from arena.ui.leaderboard import leaderboard_views

    lang_f, cat_f = (None if language == "any" else language), (None if category == "all" else category)
    expected = _records(played.leaderboard.rows(lang_f, cat_f), "alpha-7b")
    assert expected, "the filter keeps some of alpha-7b's battles"
    params = {k: v for k, v in (("language", lang_f), ("category", cat_f)) if v}
    api = http.get("/api/versus", params=params).json()
    lost = http.get("/api/versus/prompts", params=params | {"limit": "50"}).json()["prompts"]
    assert api["filters"] == {"language": lang_f, "category": cat_f}
    got = {r["b"]: (r["wins"], r["losses"], r["ties"]) for r in api["rows"] if not r["group"]}
    assert {k: v for k, v in got.items() if any(v)} == expected
    views = leaderboard_views(played, language, category, "none", "en")
    names = api["names"]
    page = {row[0]: row[3] for row in views["versus"].itertuples(index=False)}
    assert page == {names[k]: "–".join(map(str, v)) for k, v in got.items()}
    allowed = {str(p["id"]) for p in played.prompts.listed(lang_f) if cat_f is None or p["category"] == cat_f}
    assert {p["prompt_id"] for p in lost} <= allowed
    if category == "colour":  # alpha-7b loses every colour battle: nothing "better" here, whatever the board says
        assert lost and all(w == 0 for w, _, _ in expected.values())
        assert all(r["decision"] in ("worse", "undecided") for r in api["rows"])


def _check_per_prompt(played: Arena, http: httpx.Client, tmp_path: Path) -> None:
    """Verdicts per prompt: the API's rows (with the prompt texts), the page's grouped table and the CLI on the
    exported battles agree; each prompt's record is the direct battles on that prompt."""
    from arena.ui.leaderboard import leaderboard_views

    api = http.get("/api/versus", params={"by": "prompt"}).json()
    per_prompt = [r for r in api["rows"] if r["group"]]
    assert per_prompt and all(set(r["group"]) == {"prompt"} for r in per_prompt)
    assert {r["group"]["prompt"] for r in per_prompt} <= set(api["prompts"])
    rows = played.leaderboard.rows()
    for r in per_prompt:
        on_prompt = [v for v in rows if str(v["prompt_id"]) == r["group"]["prompt"]]
        assert _records(on_prompt, "alpha-7b").get(r["b"], (0, 0, 0)) == (r["wins"], r["losses"], r["ties"])
    views = leaderboard_views(played, "any", "all", "prompt", "en")
    assert len(views["groups"]) == len(per_prompt) and views["group_plot"] is None
    path = tmp_path / "battles.jsonl"
    path.write_text("\n".join(json.dumps(r, default=str) for r in rows), encoding="utf-8")
    args = ["ratings", "--battles", str(path), "--json", "--bootstrap", "0", "--in-house", "alpha-7b"]
    res = CliRunner().invoke(build_app(), [*args, "--by", "prompt", "--min-votes", str(played.settings.min_votes)])
    assert res.exit_code == 0, res.output
    cli = {(e["rival"], tuple(e.get("group", {}).items())): e["decision"] for e in json.loads(res.output)["versus"]}
    assert cli == {(r["b"], tuple(r["group"].items())): r["decision"] for r in api["rows"]}


def test_verdict_routes_losing_prompts_and_bad_input(played: Arena, server: ThreadedServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        _check_per_prompt(played, http, tmp_path)
        for language, category in (("any", "colour"), ("any", "motion"), ("en", "all")):
            _check_filters(played, http, language, category)
        out = http.get("/api/versus/prompts").json()
        assert out["in_house"] == "alpha-7b" and out["prompts"]
        worst = out["prompts"][0]
        assert worst["losses"] > worst["wins"] and worst["prompt"]
        assert worst["rival"] in ("beta-v2", "gamma-x")
        for side in ("in_house_clip", "rival_clip"):  # this arena shows named clips (leaderboard_clips)
            clip = http.get(worst[side])
            assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
        for path, params in (
            ("/api/versus", {"by": "colour"}),
            ("/api/versus", {"alpha": "0.9"}),
            ("/api/versus", {"method": "bonferroni"}),
            ("/api/compare", {"a": "alpha-7b", "b": "x y"}),
            ("/api/versus/prompts", {"limit": "0"}),
        ):
            res = http.get(path, params=params)
            assert res.status_code in (400, 422), (path, params, res.status_code)
            assert set(res.json()["error"]) == {"code", "reason"}
        assert http.get("/api/compare", params={"a": "alpha-7b", "b": "alpha-7b"}).json()["error"]["code"] == "invalid"
        style = http.get("/api/leaderboard/style").json()
        assert {r["model_id"] for r in style["rows"]} == set(WORKING) and "left" in style["coefficients"]
        ties = http.get("/api/leaderboard/davidson").json()
        assert {r["model_id"] for r in ties["rows"]} == set(WORKING) and ties["nu_tie"] is not None


def test_clips_stay_hidden_by_default(arena_factory: Callable[..., Arena]) -> None:
    from arena.services.losses import losing_prompts

    arena = arena_factory(in_house_model="alpha-7b", matchmaking="uniform", gold_rate=0.0)
    arena.pool_videos.fill(models=WORKING)
    play(arena, 15)
    snap = arena.leaderboard.snapshot()
    prompts = losing_prompts(arena.factory, snap, arena.clips, "alpha-7b")
    assert prompts and all(p.in_house_clip is None and p.rival_clip is None for p in prompts)


def test_verdict_answers_are_typed_and_name_every_field(arena: Arena) -> None:
    """/api/versus and /api/compare answer VerdictsJSON, /api/versus/prompts LostPromptsJSON; the JSON types name
    every field of the dataclasses they serialise (a field added to one and not the other fails here)."""
    import dataclasses

    from arena.services.verdicts import VerdictRow, VerdictRowJSON, Verdicts, VerdictsJSON

    assert [f.name for f in dataclasses.fields(VerdictRow)] == list(VerdictRowJSON.__annotations__)
    assert {f.name for f in dataclasses.fields(Verdicts)} | {"promise", "filters", "prompts"} == set(
        VerdictsJSON.__annotations__
    )
    schema = create_api(arena).openapi()
    for path, name in (("/api/versus", "VerdictsJSON"), ("/api/compare", "VerdictsJSON")):
        ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{name}"}, (path, ok)
    lost = schema["paths"]["/api/versus/prompts"]["get"]["responses"]["200"]["content"]["application/json"]
    assert lost["schema"] == {"$ref": "#/components/schemas/LostPromptsJSON"}
    components = schema["components"]["schemas"]
    assert set(components["VerdictRowJSON"]["properties"]) == set(VerdictRowJSON.__annotations__)
    assert {"filters", "prompts"}.isdisjoint(components["VerdictsJSON"]["required"])
