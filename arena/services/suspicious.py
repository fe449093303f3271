"""Sessions whose votes look like a campaign or a bot, for the admin to review (and perhaps exclude):

* a win streak: many votes in a row for the same model (the side picked was that model each time), or nearly
  every vote for one model whenever it is on screen;
* superhuman speed: votes cast sooner after the videos arrived than a person can watch them.

Only anonymous votes count (a named battle is no campaign evidence). Nothing here changes a vote.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Battle, BattleMode, BattleStatus, Vote, VoteChoice

SCAN = 50_000  # the latest votes looked at


@dataclass(frozen=True)
class Thresholds:
    streak: int = 8  # this many votes in a row for one model
    share: float = 0.9  # or this share of the votes where one model was on screen...
    share_min: int = 10  # ...over at least this many of them
    fast_s: float = 2.0  # a vote sooner than this after the videos arrived (the clip length) is too fast
    fast_share: float = 0.5  # flagged when at least this share of the session's votes is too fast...
    fast_min: int = 5  # ...over at least this many votes


@dataclass(frozen=True)
class SuspiciousSession:
    session_id: str
    ip_hash: str | None
    votes: int
    favourite: str | None  # the model it favoured most
    streak: int  # the longest run of votes for one model
    favourite_share: float  # share of the votes where `favourite` was on screen that went to it
    fast_votes: int
    median_seconds: float | None
    reasons: tuple[str, ...]


def _winner(choice: VoteChoice, left: str, right: str) -> str | None:
    return left if choice == VoteChoice.left else right if choice == VoteChoice.right else None


def suspicious_sessions(session: Session, t: Thresholds | None = None) -> list[SuspiciousSession]:
    """Flagged sessions, most votes first."""
    t = t or Thresholds()
    rows = session.execute(
        select(
            Vote.session_id,
            Vote.ip_hash,
            Vote.choice,
            Vote.seconds_to_vote,
            Battle.left_model_id,
            Battle.right_model_id,
        )
        .join(Battle, Battle.id == Vote.battle_id)
        .where(Battle.mode == BattleMode.anonymous, Battle.status == BattleStatus.voted)
        .order_by(Vote.id.desc())
        .limit(SCAN)
    ).all()
    by_session: dict[str, list[tuple[str | None, VoteChoice, float | None, str, str]]] = {}
    for sid, ip, choice, seconds, left, right in reversed(rows):  # oldest first: streaks run in time order
        by_session.setdefault(sid, []).append((ip, choice, seconds, left, right))
    out = []
    for sid, votes in by_session.items():
        flagged = _judge(sid, votes, t)
        if flagged is not None:
            out.append(flagged)
    return sorted(out, key=lambda s: (-s.votes, s.session_id))


def _judge(
    sid: str, votes: list[tuple[str | None, VoteChoice, float | None, str, str]], t: Thresholds
) -> SuspiciousSession | None:
    shown: dict[str, int] = {}
    won: dict[str, int] = {}
    streak, best_streak, last = 0, 0, None
    for _ip, choice, _s, left, right in votes:
        for model in (left, right):
            shown[model] = shown.get(model, 0) + 1
        winner = _winner(choice, left, right)
        if winner is not None:
            won[winner] = won.get(winner, 0) + 1
        streak = streak + 1 if winner is not None and winner == last else (1 if winner is not None else 0)
        last = winner
        best_streak = max(best_streak, streak)
    favourite = max(won, key=lambda m: (won[m] / shown[m], won[m])) if won else None
    share = won[favourite] / shown[favourite] if favourite else 0.0
    seconds = [s for _ip, _c, s, _l, _r in votes if s is not None]
    fast = sum(1 for s in seconds if s < t.fast_s)
    reasons = []
    if best_streak >= t.streak:
        reasons.append(f"{best_streak} votes in a row for one model")
    if favourite and shown[favourite] >= t.share_min and share >= t.share:
        reasons.append(f"{share:.0%} of {shown[favourite]} votes with one model on screen went to it")
    if len(votes) >= t.fast_min and fast / len(votes) >= t.fast_share:
        reasons.append(f"{fast} of {len(votes)} votes sooner than {t.fast_s:g} s after the videos arrived")
    if not reasons:
        return None
    return SuspiciousSession(
        session_id=sid,
        ip_hash=votes[-1][0],
        votes=len(votes),
        favourite=favourite,
        streak=best_streak,
        favourite_share=round(share, 3),
        fast_votes=fast,
        median_seconds=round(statistics.median(seconds), 2) if seconds else None,
        reasons=tuple(reasons),
    )
