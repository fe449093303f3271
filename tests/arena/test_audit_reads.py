"""Audit reads grouped by the database: the clips-shown pairs behind a metric's agreement equal the per-vote rows."""

from __future__ import annotations

from collections import Counter

from arena.services.container import Arena


def test_video_pairs_count_the_decisive_board_votes_of_each_pair_of_clips(arena: Arena) -> None:
    for k in range(16):
        view = arena.battles.start(f"s{k % 3}")
        arena.votes.vote(view.id, f"s{k % 3}", ("left", "right", "tie", "both_bad", "left")[k % 5])
    snap = arena.leaderboard.snapshot(max_age_s=0)
    grouped = snap.audited().video_pairs()
    per_vote = Counter(
        (v["left_video_id"], v["right_video_id"], v["choice"]) for v in snap.rows() if v["choice"] in ("left", "right")
    )
    assert {(a, b, c): n for a, b, c, n in grouped} == dict(per_vote)
    assert sum(n for *_, n in grouped) == 10  # 16 votes less 3 ties and 3 both-bad
