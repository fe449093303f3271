"""The board from the counted votes equals the board from one row per vote; the counts stay equal to a recount.

Random votes (ties, both-bad, imported weights, gold checks that some sessions and addresses fail, languages,
categories, simulated voters) go in through the import and the live vote path; the board read from
`vote_counts` is compared with a board fitted on per-vote rows whose weights are worked out here, independently,
with the rating engine's per-vote gold scoring.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from arena.ratings import BattleRows, leaderboard, score_gold, session_weights
from arena.ratings.decisions import battle_count_matrix, win_fraction_matrix
from arena.services.container import Arena
from arena.services.gold import GoldPairs
from arena.services.tally_check import check_tallies
from arena.services.vote_import import import_votes
from db.models import Battle
from db.session import transaction

MODELS = ["alpha-7b", "beta-v2", "gamma-x"]
PROMPTS = [("red-ball", "en", "motion"), ("red-ball", "zh", "motion"), ("blue-box", "en", "colour")]
PROMPTS += [("blue-box", "zh", "colour"), ("two-stars", "en", "count")]
WINNERS = ["model_a", "model_b", "tie", "tie (bothbad)"]


def random_votes(n: int, seed: int, *, gold_first: bool = False) -> list[dict[str, Any]]:
    """Export rows: 30 sessions over 8 addresses; sessions 0-5 and everyone at address 7 answer gold checks
    wrongly; a tenth are simulated voters; a few carry an imported weight of 0.5."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        s = int(rng.integers(0, 30))
        ip = None if s % 10 == 9 else f"ip{s % 8}"
        a, b = rng.choice(3, 2, replace=False)
        key, language, category = PROMPTS[int(rng.integers(0, len(PROMPTS)))]
        gold = rng.random() < 0.15
        careless = s < 6 or ip == "ip7"
        row: dict[str, Any] = {
            "battle_id": f"b{seed}-{k}",
            "model_a": MODELS[a],
            "model_b": MODELS[b],
            "winner": WINNERS[int(rng.choice(4, p=[0.4, 0.35, 0.15, 0.1]))],
            "prompt_key": key,
            "language": language,
            "category": category,
            "suite": "test",
            "session_id": f"s{s}",
            "ip_hash": ip,
            "weight": 0.5 if rng.random() < 0.05 else 1.0,
            "simulated": bool(rng.random() < 0.1),
            "tstamp": 1_700_000_000 + k,
            "is_gold": bool(gold),
            "gold_better": None,
        }
        if gold:
            row["gold_better"] = "left"
            row["winner"] = "model_b" if careless and rng.random() < 0.8 else "model_a"
        rows.append(row)
    if gold_first:
        rows.sort(key=lambda r: not r["is_gold"])
    return rows


def write(rows: list[dict[str, Any]], path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def expected_rows(rows: list[dict[str, Any]], policy: str) -> list[dict[str, Any]]:
    """Human board rows with their weights, from per-vote gold scoring by session and by address."""
    gold = [r for r in rows if r["is_gold"]]
    answers = {r["battle_id"]: "model_a" for r in gold}
    weights = {}
    for field in ("session_id", "ip_hash"):
        scores = score_gold([r for r in gold if r[field]], answers, session_key=field, gold_key="battle_id")
        weights[field] = session_weights(scores, mode=policy)  # type: ignore[arg-type]
    out = []
    for r in rows:
        if r["is_gold"] or r["simulated"]:
            continue
        factor = min(weights["session_id"].get(r["session_id"], 1.0), weights["ip_hash"].get(r["ip_hash"], 1.0))
        # a vote's own weight is its design weight (the board calibrates by it): carried as such
        out.append({**r, "weight": r["weight"] * factor, "design_weight": r["weight"]})
    return out


def assert_same_board(aggregated: Any, per_vote: Any) -> None:
    assert [e.model for e in aggregated.entries] == [e.model for e in per_vote.entries]
    for one, two in zip(aggregated.entries, per_vote.entries, strict=True):
        assert (one.votes, one.wins, one.losses, one.ties, one.rank) == (
            two.votes,
            two.wins,
            two.losses,
            two.ties,
            two.rank,
        )
        assert one.rating == pytest.approx(two.rating, abs=1e-6)
        assert (one.ci_low, one.ci_high) == pytest.approx((two.ci_low, two.ci_high), abs=1e-6)


@pytest.mark.parametrize("policy", ["downweight", "exclude"])
def test_board_from_counts_equals_board_from_per_vote_rows(
    arena_factory: Callable[..., Arena], tmp_path: Path, policy: str
) -> None:
    arena = arena_factory(gold_policy=policy, min_votes=0)
    rows = random_votes(2500, seed=1)
    import_votes(arena.factory, write(rows, tmp_path / "votes.jsonl"), tallies=arena.leaderboard.tallies, batch=700)
    expected = expected_rows(rows, policy)
    snap = arena.leaderboard.snapshot(max_age_s=0)
    assert snap.battle_rows().total == len(expected) and len(snap.battle_rows()) < len(expected)
    for language, category in [(None, None), ("en", None), (None, "motion"), ("zh", "colour")]:
        subset = [r for r in expected if language in (None, r["language"]) and category in (None, r["category"])]
        mine, board = snap.fit(language, category, bootstrap_rounds=40, seed=2)
        theirs = BattleRows.from_records(subset)
        assert_same_board(board, leaderboard(theirs, bootstrap_rounds=40, seed=2, elo={}))
        assert win_fraction_matrix(mine).equals(win_fraction_matrix(theirs))
        assert battle_count_matrix(mine).equals(battle_count_matrix(theirs))
    weights = {w for w in snap.battle_rows().weight.tolist()}
    assert weights == ({1.0, 0.5, 0.25, 0.125} if policy == "downweight" else {1.0, 0.5, 0.0})
    with_simulated = arena.leaderboard.snapshot(simulated=True)
    assert with_simulated.battle_rows().total == sum(not r["is_gold"] for r in rows)
    with transaction(arena.factory) as session:
        assert check_tallies(session) == []


def test_stored_elo_is_the_online_elo_of_the_votes_in_order(
    arena_factory: Callable[..., Arena], tmp_path: Path
) -> None:
    """With the gold records settled before the board votes, the Elo stored vote by vote is FastChat's online
    Elo over the per-vote rows in order (weights included), for the whole board and each filter."""
    from arena.ratings import compute_elo

    arena = arena_factory(gold_policy="downweight")
    rows = random_votes(1500, seed=2, gold_first=True)
    import_votes(arena.factory, write(rows, tmp_path / "votes.jsonl"), tallies=arena.leaderboard.tallies, batch=400)
    expected = expected_rows(rows, "downweight")
    snap = arena.leaderboard.snapshot(max_age_s=0)
    for language, category in [(None, None), ("zh", None), ("en", "colour")]:
        subset = [r for r in expected if language in (None, r["language"]) and category in (None, r["category"])]
        stored = {r["model_id"]: r["elo"] for r in snap.board(language, category, bootstrap_rounds=0)["rows"]}
        online = compute_elo(BattleRows.from_records(subset))
        assert stored == pytest.approx({m: round(v, 1) for m, v in online.items()}, abs=0.051)


def test_live_votes_gold_failures_and_new_sessions_on_a_failed_address(arena: Arena) -> None:
    """Live votes keep the counts equal to a recount; a session that fails its gold checks takes its past votes
    down with it, and a fresh session from the same address starts down-weighted."""
    for k in range(4):  # ordinary votes first (no gold pair: no checks), from session "bad" at one address
        view = arena.battles.start("bad")
        arena.votes.vote(view.id, "bad", "left" if k % 2 else "tie", ip="198.51.100.1")
    rows = arena.leaderboard.snapshot(max_age_s=0).battle_rows()
    classes = rows.weight / rows.extra["design_weight"]  # the gold policy's factor (design weights aside)
    assert set(classes.tolist()) == {1.0} and rows.total == 4
    arena.battles.gold, arena.battles.gold_rate = GoldPairs([("alpha-7b", "beta-v2")]), 1.0
    for _ in range(3):  # three wrong answers to gold checks: the session and its address fail
        view = arena.battles.start("bad")
        with transaction(arena.factory) as session:
            worse = "left" if session.get_one(Battle, view.id).left_model_id == "beta-v2" else "right"
        arena.votes.vote(view.id, "bad", worse, ip="198.51.100.1")
    arena.battles.gold, arena.battles.gold_rate = GoldPairs([]), 0.0  # no more checks
    view = arena.battles.start("fresh")  # a new session from the failed address
    arena.votes.vote(view.id, "fresh", "right", ip="198.51.100.1")
    view = arena.battles.start("other")  # and someone else entirely
    arena.votes.vote(view.id, "other", "right", ip="192.0.2.9")
    rows = arena.leaderboard.snapshot(max_age_s=0).battle_rows()
    assert rows.total == 6  # gold checks stay off the board
    classes = rows.weight / rows.extra["design_weight"]
    assert sorted(np.repeat(classes, rows.battles).tolist()) == [0.25] * 5 + [1.0]
    raters = arena.leaderboard.raters()
    assert raters["bad"]["gold_failed"] and raters["bad"]["gold_votes"] == 3
    summary = arena.leaderboard.snapshot().rater_summary()  # the page's line, without reading votes per session
    voted = [r for r in raters.values() if r.get("votes")]
    total = sum(r["votes"] for r in voted)
    assert summary["decisive"] == total
    assert summary["agreement"] == pytest.approx(sum(r["agreement"] * r["votes"] for r in voted) / total)
    assert summary["expected"] == pytest.approx(sum(r["expected"] * r["votes"] for r in voted) / total)
    assert (summary["failed"], summary["gold"], summary["sessions"]) == (1, 1, 3)
    with transaction(arena.factory) as session:
        assert check_tallies(session) == []


def test_a_refresh_reads_only_the_changed_counts_and_equals_a_full_read(
    arena: Arena, monkeypatch: pytest.MonkeyPatch
) -> None:
    import arena.services.board_rows as board_rows
    from arena.ratings.raters import class_weights

    reads: list[int | None] = []
    real = board_rows._read
    monkeypatch.setattr(board_rows, "_read", lambda s, since, models: reads.append(since) or real(s, since, models))
    for k in range(6):  # no gold pair yet: no checks
        view = arena.battles.start(f"s{k % 2}")
        arena.votes.vote(view.id, f"s{k % 2}", "left", ip="192.0.2.1")
    arena.leaderboard.snapshot(max_age_s=0)
    arena.battles.gold, arena.battles.gold_rate = GoldPairs([("alpha-7b", "beta-v2")]), 1.0
    for _ in range(3):  # s0 fails three gold checks: its votes (and its address's) change class
        view = arena.battles.start("s0")
        with transaction(arena.factory) as session:
            worse = "left" if session.get_one(Battle, view.id).left_model_id == "beta-v2" else "right"
        arena.votes.vote(view.id, "s0", worse, ip="192.0.2.1")
    arena.battles.gold, arena.battles.gold_rate = GoldPairs([]), 0.0
    view = arena.battles.start("s1")
    arena.votes.vote(view.id, "s1", "tie", ip="192.0.2.2")
    refreshed = arena.leaderboard.snapshot(max_age_s=0).battle_rows()
    assert reads[0] is None and all(since is not None for since in reads[1:])  # one full read, then changes only
    full = board_rows.CountTable()
    with transaction(arena.factory) as session:
        full.refresh(session, board_rows.board_token(session))
    fresh = full.battle_rows(simulated=False, class_weights=class_weights("downweight"))
    order = np.lexsort((refreshed.winner, refreshed.b, refreshed.a, refreshed.extra["prompt_id"], refreshed.weight))
    again = np.lexsort((fresh.winner, fresh.b, fresh.a, fresh.extra["prompt_id"], fresh.weight))
    for name in ("a", "b", "winner", "weight", "count"):
        assert np.array_equal(getattr(refreshed, name)[order], getattr(fresh, name)[again])
    assert sorted(refreshed.weight.tolist()) == sorted(fresh.weight.tolist()) and 1 in refreshed.extra["weight_class"]
