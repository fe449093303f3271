"""Voting and revealing: a vote is stored exactly once, or refused with a reason.

The refusals: unknown battle, not this session's, already voted, voided, expired, names already revealed,
not ready. The check and the write happen in one transaction, guarded by a conditional UPDATE and a
unique constraint, so two racing votes (in two processes) store one vote.

Votes are written in batches (:meth:`VoteService.vote_many`, fed by arena.services.vote_writer): each vote of a
batch is checked and answered on its own, the accepted ones are stored with their tallies in one transaction,
and none is answered before it commits. A batch that fails as a whole is written again one vote at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from arena.services.battles import BattleService
from arena.services.reveal_timing import held_until
from arena.services.sessions import hash_ip
from arena.services.tallies import Tallies
from arena.services.views import Refusal, Reveal, SideReveal, aware
from db.models import Battle, BattleMode, BattleStatus, Model, Video, Vote, VoteChoice, utcnow
from db.session import transaction

log = logging.getLogger(__name__)

AspectChoice = Literal["left", "right", "tie", "both_bad"]


class Aspects(BaseModel):
    """Optional finer votes, each with the same vocabulary as the overall choice."""

    model_config = ConfigDict(extra="forbid")

    text_alignment: AspectChoice | None = None
    motion: AspectChoice | None = None
    visual_quality: AspectChoice | None = None


@dataclass(frozen=True)
class VoteRequest:
    """One vote as a client cast it. `simulated`: a simulated voter's vote, kept off human boards, exports and
    decisions."""

    battle_id: str
    session_id: str
    choice: str
    aspects: dict[str, Any] | None = None
    ip: str | None = None
    simulated: bool = False


Outcome = Reveal | Exception  # a stored vote's reveal, or why it was not stored (a Refusal, or an error)


class VoteService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        battles: BattleService,
        ip_salt: str,
        min_view_s: float = 0.0,
        tallies: Tallies | None = None,
    ) -> None:
        self.factory = factory
        self.battles = battles
        self.ip_salt = ip_salt
        self.min_view_s = min_view_s  # a vote sooner than this after the videos were shown is refused
        self.tallies = tallies or Tallies()  # counts, voter records and Elo, written with each vote

    def vote(
        self,
        battle_id: str,
        session_id: str,
        choice: str,
        aspects: dict[str, Any] | None = None,
        ip: str | None = None,
        *,
        simulated: bool = False,
    ) -> Reveal:
        """Store the vote once (with its tallies, in one transaction) and reveal the names, or refuse with a
        reason. `simulated`: a simulated voter's vote, kept off human boards, exports and decisions."""
        outcome = self.vote_many([VoteRequest(battle_id, session_id, choice, aspects, ip, simulated)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def vote_many(self, requests: Sequence[VoteRequest]) -> list[Outcome]:
        """Each vote's outcome, in order: votes are checked one after another as if cast in that order, and the
        accepted ones stored in one transaction. If the batch fails as a whole (a database error), each vote is
        tried again alone, so one vote's failure is never another's."""
        if len(requests) > 1:
            try:
                return self._write(requests)
            except Exception:
                log.warning("a batch of %d votes failed; writing them one by one", len(requests), exc_info=True)
        return [self._write_alone(request) for request in requests]

    def _write_alone(self, request: VoteRequest) -> Outcome:
        try:
            return self._write([request])[0]
        except IntegrityError:  # (the vote's unique battle id: a racing vote of another process won)
            return Refusal("already_voted", "this battle already has a vote", 409)
        except Exception as exc:
            return exc

    def _write(self, requests: Sequence[VoteRequest]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(requests)
        parsed: list[tuple[int, VoteRequest, VoteChoice, dict[str, Any]]] = []
        for at, request in enumerate(requests):
            try:
                parsed.append((at, request, *_parse(request)))
            except Refusal as refusal:
                outcomes[at] = refusal
        with transaction(self.factory) as session:
            ids = sorted({request.battle_id for _, request, _, _ in parsed})  # one lock order for every writer
            battles = {b.id: b for b in session.scalars(_BATTLES, {"ids": ids})} if ids else {}
            accepted: list[tuple[int, Battle, Vote]] = []
            voted: set[str] = set()  # battles voted on earlier in this batch
            expired: list[str] = []
            for at, request, choice, aspects in parsed:
                battle = battles.get(request.battle_id)
                try:
                    if request.battle_id in voted:
                        raise Refusal("already_voted", "this battle already has a vote", 409)
                    accepted.append((at, battle, self._accept(session, battle, request, choice, aspects)))  # type: ignore[arg-type]
                    voted.add(request.battle_id)
                except Refusal as refusal:
                    outcomes[at] = refusal
                    if refusal.code == "expired" and battle is not None and battle.status == BattleStatus.shown:
                        expired.append(battle.id)
            if accepted:
                self.tallies.store_many(session, [(battle, vote) for _, battle, vote in accepted])
                # The names, read in the votes' transaction (the battles are in hand: no second one to reveal).
                sides = _sides(session, [battle for _, battle, _ in accepted])
                for at, battle, vote in accepted:
                    left, right = sides[battle.id]
                    outcomes[at] = Reveal(
                        battle.id, BattleStatus.voted.value, vote.choice.value, left, right, battle.status_reason
                    )
            if expired:
                session.connection().execute(_EXPIRE, [{"battle": battle_id} for battle_id in expired])
        return [outcome for outcome in outcomes if outcome is not None]

    def _accept(
        self, session: Session, battle: Battle | None, request: VoteRequest, choice: VoteChoice, aspects: dict[str, Any]
    ) -> Vote:
        """Check one vote and mark its battle voted (refusals write nothing); returns the vote to insert."""
        self._check_votable(battle, request.session_id)
        assert battle is not None
        if held_until(session, battle, utcnow()) is not None:  # shown to its client only later
            raise Refusal("not_ready", "the videos of this battle are not ready yet", 409)
        if self.battles.is_expired(battle):
            raise Refusal("expired", "this battle expired before the vote; start a new one", 410)
        now = utcnow()
        delivered = delivered_at(battle)
        if self.min_view_s and not request.simulated:
            self._check_viewed(session, request.session_id, delivered, now)
        stored = session.connection().execute(_MARK_VOTED, {"battle": battle.id, "now": now})
        if stored.rowcount != 1:
            raise Refusal("already_voted", "this battle already has a vote", 409)
        shown = delivered or aware(battle.shown_at)
        return Vote(
            battle_id=battle.id,
            choice=choice,
            aspects=aspects,
            session_id=request.session_id,
            ip_hash=hash_ip(request.ip, self.ip_salt),
            seconds_to_vote=(now - shown).total_seconds() if shown else None,
            simulated=request.simulated,
            weight=battle.design_weight,  # the matchmaker's inverse-probability weight (1: uniform pick)
        )

    def _check_viewed(self, session: Session, session_id: str, delivered: datetime | None, now: datetime) -> None:
        """The viewing time counts from when both videos reached the client and from the session's last vote, so
        battles opened together are watched one after another: N votes take N times ``min_view_s``."""
        last = aware(session.scalar(select(func.max(Battle.voted_at)).where(Battle.session_id == session_id)))
        start = max(delivered, last) if delivered is not None and last is not None else delivered
        if start is None or (now - start).total_seconds() < self.min_view_s:
            raise Refusal("too_early", "watch both videos to the end before voting (one battle at a time)", 425)

    @staticmethod
    def _check_votable(battle: Battle | None, session_id: str) -> None:
        if battle is None:
            raise Refusal("unknown_battle", "no such battle", 404)
        if battle.session_id != session_id:
            raise Refusal("wrong_session", "this battle belongs to another session", 403)
        # (a vote row of a battle still "shown" cannot be: its INSERT would fail on the unique battle id)
        if battle.status == BattleStatus.voted or (battle.status != BattleStatus.shown and battle.vote is not None):
            raise Refusal("already_voted", "this battle already has a vote", 409)
        if battle.status == BattleStatus.voided:
            raise Refusal("voided", f"this battle was voided: {battle.status_reason}", 409)
        if battle.status == BattleStatus.expired:
            raise Refusal("expired", "this battle expired before the vote; start a new one", 410)
        if battle.revealed_at is not None:
            raise Refusal("revealed", "the names were already revealed, so a vote would not be blind", 409)
        if battle.status != BattleStatus.shown:
            raise Refusal("not_ready", "the videos of this battle are not ready yet", 409)

    def reveal(self, battle_id: str, session_id: str) -> Reveal:
        """Names, times and settings: after the vote, for voided battles, and for named battles."""
        with transaction(self.factory) as session:
            battle = session.get(Battle, battle_id)
            if battle is None or battle.session_id != session_id:
                raise Refusal("unknown_battle", "no such battle in this session", 404)
            if battle.mode == BattleMode.anonymous and battle.status not in (
                BattleStatus.voted,
                BattleStatus.voided,
            ):
                raise Refusal("not_voted", "names are revealed only after the vote", 403)
            if battle.revealed_at is None:
                battle.revealed_at = utcnow()
            left, right = _sides(session, [battle])[battle.id]
            choice = battle.vote.choice.value if battle.vote else None
            return Reveal(battle.id, battle.status.value, choice, left, right, battle.status_reason)


def _parse(request: VoteRequest) -> tuple[VoteChoice, dict[str, Any]]:
    try:
        choice = VoteChoice(request.choice)
    except ValueError as exc:
        raise Refusal("invalid_choice", f"choice must be one of {[c.value for c in VoteChoice]}", 422) from exc
    try:
        aspects = Aspects.model_validate(request.aspects or {}).model_dump(exclude_none=True)
    except ValidationError as exc:
        raise Refusal("invalid_aspects", f"bad aspects: {exc.errors()[0]['msg']}", 422) from exc
    return choice, aspects


def delivered_at(battle: Battle) -> datetime | None:
    """When both videos had reached the client (the later first fetch), or None while one has not."""
    left, right = aware(battle.left_fetched_at), aware(battle.right_fetched_at)
    return max(left, right) if left is not None and right is not None else None


_SHOWN_SETTINGS = ("num_frames", "width", "height", "fps", "steps", "guidance")
# Built once (SQLAlchemy then reuses their cache keys and compiled forms): the votes' writes and the reveal's reads.
_BATTLES = select(Battle).where(Battle.id.in_(bindparam("ids", expanding=True))).with_for_update()
_MARK_VOTED = (
    update(Battle)
    .where(Battle.id == bindparam("battle"), Battle.status == BattleStatus.shown, Battle.revealed_at.is_(None))
    .values(status=BattleStatus.voted, voted_at=bindparam("now"), revealed_at=bindparam("now"))
)
_EXPIRE = (
    update(Battle)
    .where(Battle.id == bindparam("battle"), Battle.status == BattleStatus.shown)
    .values(status=BattleStatus.expired, status_reason="not voted on in time")
)
_MODELS = select(Model.id, Model.display_name, Model.organisation, Model.licence).where(
    Model.id.in_(bindparam("ids", expanding=True))
)
_VIDEOS = select(Video.id, Video.latency_s, Video.provenance).where(Video.id.in_(bindparam("ids", expanding=True)))


def _sides(session: Session, battles: Sequence[Battle]) -> dict[str, tuple[SideReveal, SideReveal]]:
    """What the reveal shows of each side of each battle, by battle id: the model and its clip's latency and
    settings. An anonymous battle's seed is left out: it would let the Playground rebuild its clip and link later
    showings of it."""
    db = session.connection()
    model_ids = sorted({m for b in battles for m in (b.left_model_id, b.right_model_id)})
    models = {row.id: row for row in db.execute(_MODELS, {"ids": model_ids})}
    wanted = sorted({v for b in battles for v in (b.left_video_id, b.right_video_id) if v is not None})
    videos = {row.id: row for row in db.execute(_VIDEOS, {"ids": wanted})} if wanted else {}

    def side(model_id: str, video_id: int | None, shown: tuple[str, ...]) -> SideReveal:
        model = models[model_id]
        video = videos.get(video_id) if video_id is not None else None
        provenance = video.provenance if video is not None else {}
        params = provenance.get("params", {})
        return SideReveal(
            model_id=model.id,
            display_name=model.display_name,
            organisation=model.organisation,
            licence=model.licence,
            latency_s=video.latency_s if video is not None else None,
            settings={k: params.get(k) for k in shown} if video is not None else {},
            adjustments=provenance.get("adjustments", {}),
        )

    out = {}
    for b in battles:
        shown = _SHOWN_SETTINGS if b.mode == BattleMode.anonymous else (*_SHOWN_SETTINGS, "seed")
        out[b.id] = side(b.left_model_id, b.left_video_id, shown), side(b.right_model_id, b.right_video_id, shown)
    return out
