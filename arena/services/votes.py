"""Voting and revealing: a vote is stored exactly once, or refused with a reason.

The refusals: unknown battle, not this session's, already voted, voided, expired, names already revealed,
not ready. The check and the write happen in one transaction, guarded by a conditional UPDATE and a
unique constraint, so two racing votes (in two processes) store one vote.
"""

from __future__ import annotations

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

AspectChoice = Literal["left", "right", "tie", "both_bad"]


class Aspects(BaseModel):
    """Optional finer votes, each with the same vocabulary as the overall choice."""

    model_config = ConfigDict(extra="forbid")

    text_alignment: AspectChoice | None = None
    motion: AspectChoice | None = None
    visual_quality: AspectChoice | None = None


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
        try:
            parsed_choice = VoteChoice(choice)
        except ValueError as exc:
            raise Refusal("invalid_choice", f"choice must be one of {[c.value for c in VoteChoice]}", 422) from exc
        try:
            parsed_aspects = Aspects.model_validate(aspects or {}).model_dump(exclude_none=True)
        except ValidationError as exc:
            raise Refusal("invalid_aspects", f"bad aspects: {exc.errors()[0]['msg']}", 422) from exc
        expired = False
        try:
            with transaction(self.factory) as session:
                battle = session.execute(_BATTLE, {"battle": battle_id}).scalar_one_or_none()
                self._check_votable(battle, session_id)
                assert battle is not None
                if held_until(session, battle, utcnow()) is not None:  # shown to its client only later
                    raise Refusal("not_ready", "the videos of this battle are not ready yet", 409)
                if self.battles.is_expired(battle):
                    expired = True
                    raise Refusal("expired", "this battle expired before the vote; start a new one", 410)
                now = utcnow()
                delivered = delivered_at(battle)
                if self.min_view_s and not simulated:
                    self._check_viewed(session, session_id, delivered, now)
                stored = session.connection().execute(_MARK_VOTED, {"battle": battle_id, "now": now})
                if stored.rowcount != 1:
                    raise Refusal("already_voted", "this battle already has a vote", 409)
                shown = delivered or aware(battle.shown_at)
                vote = Vote(
                    battle_id=battle_id,
                    choice=parsed_choice,
                    aspects=parsed_aspects,
                    session_id=session_id,
                    ip_hash=hash_ip(ip, self.ip_salt),
                    seconds_to_vote=(now - shown).total_seconds() if shown else None,
                    simulated=simulated,
                    weight=battle.design_weight,  # the matchmaker's inverse-probability weight (1: uniform pick)
                )
                self.tallies.store(session, battle, vote)
                # The names, read in the vote's transaction (the battle is in hand: no second one to reveal).
                left, right = _sides(session, battle, seedless=battle.mode == BattleMode.anonymous)
        except IntegrityError as exc:
            raise Refusal("already_voted", "this battle already has a vote", 409) from exc
        finally:
            if expired:
                self._mark_expired(battle_id)
        return Reveal(battle_id, BattleStatus.voted.value, parsed_choice.value, left, right, battle.status_reason)

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

    def _mark_expired(self, battle_id: str) -> None:
        with transaction(self.factory) as session:
            session.execute(
                update(Battle)
                .where(Battle.id == battle_id, Battle.status == BattleStatus.shown)
                .values(status=BattleStatus.expired, status_reason="not voted on in time")
            )

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
            left, right = _sides(session, battle, seedless=battle.mode == BattleMode.anonymous)
            choice = battle.vote.choice.value if battle.vote else None
            return Reveal(battle.id, battle.status.value, choice, left, right, battle.status_reason)


def delivered_at(battle: Battle) -> datetime | None:
    """When both videos had reached the client (the later first fetch), or None while one has not."""
    left, right = aware(battle.left_fetched_at), aware(battle.right_fetched_at)
    return max(left, right) if left is not None and right is not None else None


_SHOWN_SETTINGS = ("num_frames", "width", "height", "fps", "steps", "guidance")
# Built once (SQLAlchemy then reuses their cache keys and compiled forms): the vote's write and the reveal's reads.
_BATTLE = select(Battle).where(Battle.id == bindparam("battle")).with_for_update()
_MARK_VOTED = (
    update(Battle)
    .where(Battle.id == bindparam("battle"), Battle.status == BattleStatus.shown, Battle.revealed_at.is_(None))
    .values(status=BattleStatus.voted, voted_at=bindparam("now"), revealed_at=bindparam("now"))
)
_MODELS = select(Model.id, Model.display_name, Model.organisation, Model.licence).where(
    Model.id.in_(bindparam("ids", expanding=True))
)
_VIDEOS = select(Video.id, Video.latency_s, Video.provenance).where(Video.id.in_(bindparam("ids", expanding=True)))


def _sides(session: Session, battle: Battle, seedless: bool) -> tuple[SideReveal, SideReveal]:
    """What the reveal shows of each side: the model and its clip's latency and settings. An anonymous battle's
    seed is left out (`seedless`): it would let the Playground rebuild its clip and link later showings of it."""
    db = session.connection()
    models = {row.id: row for row in db.execute(_MODELS, {"ids": [battle.left_model_id, battle.right_model_id]})}
    wanted = [v for v in (battle.left_video_id, battle.right_video_id) if v is not None]
    videos = {row.id: row for row in db.execute(_VIDEOS, {"ids": wanted})} if wanted else {}
    shown = _SHOWN_SETTINGS if seedless else (*_SHOWN_SETTINGS, "seed")

    def side(model_id: str, video_id: int | None) -> SideReveal:
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

    return side(battle.left_model_id, battle.left_video_id), side(battle.right_model_id, battle.right_video_id)
