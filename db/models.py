"""The arena's tables (SQLAlchemy 2.0, typed). Portable: nothing here assumes SQLite.

Generations are keyed by (model, prompt, seed, settings_key) so a benchmark run can be resumed and can
fill the battle pool; identities of battle videos live here, keyed by the battle id, never in the UI.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

# The declarative base and the benchmark runs' tables live in their own modules; importing them here registers
# every table on one metadata and keeps `from db.models import ...` working for all of them.
from db.base import Base as Base
from db.base import _enum
from db.base import utcnow as utcnow
from db.runs import Run as Run
from db.runs import RunFailure as RunFailure
from db.runs import RunStatus as RunStatus


class BattleMode(enum.StrEnum):
    anonymous = "anonymous"
    named = "named"


# Battle.source of an anonymous battle on a suite prompt its client chose: stored and revealed, never counted on
# the board (a client pinning one prompt maps its few pool clips by their reveals).
PINNED = "pinned"


class BattleStatus(enum.StrEnum):
    created = "created"  # videos chosen, their served copies being prepared
    generating = "generating"  # a video is missing: its generation job is queued or running
    shown = "shown"  # both videos ready and sent to the client
    voted = "voted"  # a vote was stored; names revealed
    voided = "voided"  # a model failed (reason says why) or the battle was withdrawn
    expired = "expired"  # not voted on in time


class VoteChoice(enum.StrEnum):
    left = "left"
    right = "right"
    tie = "tie"
    both_bad = "both_bad"


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"  # its battle was voided before it ran


class ExclusionKind(enum.StrEnum):
    session = "session"
    ip_hash = "ip_hash"


class Model(Base):
    __tablename__ = "models"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="unknown")
    licence: Mapped[str] = mapped_column(String(200), default="unknown")
    kind: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    in_house: Mapped[bool] = mapped_column(Boolean, default=False)
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Prompt(Base):
    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("suite", "key", "language", name="uq_prompt_suite_key_lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suite: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(128))  # same key for the translations of one prompt
    language: Mapped[str] = mapped_column(String(8), index=True)
    category: Mapped[str] = mapped_column(String(64), default="general", index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = (
        UniqueConstraint("model_id", "prompt_id", "seed", "settings_key", name="uq_video_generation_key"),
        Index("ix_videos_prompt_model", "prompt_id", "model_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"))
    seed: Mapped[int] = mapped_column(Integer)
    settings_key: Mapped[str] = mapped_column(String(64))  # hash of the requested settings
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    provenance: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    file_path: Mapped[str] = mapped_column(String(512))  # relative to the media folder
    num_frames: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    fps: Mapped[float] = mapped_column(Float)
    latency_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the pool fingerprint reads its max

    model: Mapped[Model] = relationship()
    prompt: Mapped[Prompt] = relationship()


# What a start reads of a client's battles on a prompt (arena.services.pool.revealed_to), in its indexes: only
# the revealed ones are visited, and their clips come from the index.
_REVEALED = ("mode", "revealed_at", "left_video_id", "right_video_id")


class Battle(Base):
    __tablename__ = "battles"
    # Per-client reads at every start and vote (open battles to cap, clips already revealed, the last vote) go
    # through a client-first index, so their cost follows what is open or asked, not the client's whole history.
    __table_args__ = (
        Index("ix_battles_status", "status"),
        Index("ix_battles_ip_open", "ip_hash", "status", "created_at"),
        Index("ix_battles_session_open", "session_id", "status", "created_at"),
        Index("ix_battles_ip_prompt", "ip_hash", "prompt_id", *_REVEALED),
        Index("ix_battles_session_prompt", "session_id", "prompt_id", *_REVEALED),
        Index("ix_battles_session_voted", "session_id", "voted_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, unguessable
    mode: Mapped[BattleMode] = mapped_column(_enum(BattleMode))
    status: Mapped[BattleStatus] = mapped_column(_enum(BattleStatus), default=BattleStatus.created)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="pool")  # pool | gold | live | named | PINNED
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"))
    left_model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    right_model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    left_video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id"), nullable=True)
    right_video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id"), nullable=True)
    # Random per-battle names under which the two clips are served (never a model or a content hash).
    left_token: Mapped[str] = mapped_column(String(48), unique=True)
    right_token: Mapped[str] = mapped_column(String(48), unique=True)
    session_id: Mapped[str] = mapped_column(String(128))
    ip_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)  # caps open battles per IP
    # The app process preparing it while "created" (crash recovery voids it when that process is gone).
    worker_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    gold_better: Mapped[str | None] = mapped_column(String(8), nullable=True)  # "left" | "right" for gold pairs
    # Inverse-probability weight of the matchmaker's pick (1: uniform); the ratings weight the vote by it.
    design_weight: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    shown_at: Mapped[datetime | None] = mapped_column(nullable=True)
    voted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revealed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When each video first reached the client (its first media request): the viewing time counts from there.
    left_fetched_at: Mapped[datetime | None] = mapped_column(nullable=True)
    right_fetched_at: Mapped[datetime | None] = mapped_column(nullable=True)

    prompt: Mapped[Prompt] = relationship()
    left_video: Mapped[Video | None] = relationship(foreign_keys=[left_video_id])
    right_video: Mapped[Video | None] = relationship(foreign_keys=[right_video_id])
    vote: Mapped[Vote | None] = relationship(back_populates="battle", uselist=False)


class Vote(Base):
    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    battle_id: Mapped[str] = mapped_column(ForeignKey("battles.id"), unique=True)  # one vote per battle, enforced
    choice: Mapped[VoteChoice] = mapped_column(_enum(VoteChoice))
    aspects: Mapped[dict[str, Any]] = mapped_column(default=dict)  # text_alignment / motion / visual_quality
    session_id: Mapped[str] = mapped_column(String(128), index=True)
    ip_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    seconds_to_vote: Mapped[float | None] = mapped_column(Float, nullable=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    # A simulated voter's vote (arena calibrate, the demo world): kept off human boards, exports and decisions.
    simulated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    battle: Mapped[Battle] = relationship(back_populates="vote")


# ---- tallies: derived from the votes, written in each vote's transaction (arena/services/tallies.py) ----------
COUNT_KEY: tuple[str, ...] = (
    "simulated",
    "prompt_id",
    "left_model_id",
    "right_model_id",
    "weight",
    "weight_class",
    "left_frames",
    "left_width",
    "left_height",
    "left_fps",
    "right_frames",
    "right_width",
    "right_height",
    "right_fps",
)
# The votes of one key, by choice (one row holds all four outcomes: a quarter of the rows to read).
OUTCOME_COUNTS: dict[str, str] = {"left": "n_left", "right": "n_right", "tie": "n_tie", "both_bad": "n_both_bad"}


class VoteCount(Base):
    """How many anonymous, non-gold votes share one key, by choice: what the board and the decision layer read.

    The key: human or simulated, prompt, the models on the left and right, the vote's own weight, its weight
    class (the worst gold record of its session and IP hash, see `Rater`), and each clip's shape (frames,
    width, height, fps; 0 when unknown). The counts may reach 0 (a session re-classed away); `version` is the
    `BoardState.version` of the row's last change, so a reader can fetch only what changed.
    """

    __tablename__ = "vote_counts"
    __table_args__ = (UniqueConstraint(*COUNT_KEY, name="uq_vote_counts_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    simulated: Mapped[bool] = mapped_column(Boolean)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"))
    left_model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    right_model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    weight: Mapped[float] = mapped_column(Float)
    weight_class: Mapped[int] = mapped_column(Integer)
    left_frames: Mapped[int] = mapped_column(Integer)
    left_width: Mapped[int] = mapped_column(Integer)
    left_height: Mapped[int] = mapped_column(Integer)
    left_fps: Mapped[float] = mapped_column(Float)
    right_frames: Mapped[int] = mapped_column(Integer)
    right_width: Mapped[int] = mapped_column(Integer)
    right_height: Mapped[int] = mapped_column(Integer)
    right_fps: Mapped[float] = mapped_column(Float)
    n_left: Mapped[int] = mapped_column(Integer)
    n_right: Mapped[int] = mapped_column(Integer)
    n_tie: Mapped[int] = mapped_column(Integer)
    n_both_bad: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, index=True)


class Rater(Base):
    """One voter, keyed by its session ("session") or its client's IP hash ("ip"): votes cast, gold-pair record,
    and the weight class that record earns (0 trusted, 1 failed its gold checks). A vote's class is the worst of
    its session's and its IP hash's, so a fresh session from the same address inherits the address's record."""

    __tablename__ = "raters"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    votes: Mapped[int] = mapped_column(Integer, default=0)
    gold_votes: Mapped[int] = mapped_column(Integer, default=0)
    gold_credit: Mapped[float] = mapped_column(Float, default=0.0)
    weight_class: Mapped[int] = mapped_column(Integer, default=0)


class EloRating(Base):
    """Online Elo, moved once by each anonymous non-gold vote as it is stored, per scope: population ("human":
    simulated votes left out, "all"), language and category ("" for all of them)."""

    __tablename__ = "elo_ratings"

    population: Mapped[str] = mapped_column(String(8), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rating: Mapped[float] = mapped_column(Float)
    votes: Mapped[int] = mapped_column(Integer)


class BoardState(Base):
    """One row. `version` grows with every change to the tallies, in the same transaction (and its row lock
    orders the tally writers); `epoch` grows with every rebuild; `stale` asks for a rebuild from the votes (set
    when the tallies were created on a database that already had votes)."""

    __tablename__ = "board_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)


class MetricScore(Base):
    __tablename__ = "metric_scores"
    __table_args__ = (UniqueConstraint("video_id", "metric", "metric_version", "encoder", name="uq_metric_score"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id"), index=True)
    metric: Mapped[str] = mapped_column(String(64))
    metric_version: Mapped[str] = mapped_column(String(32))
    encoder: Mapped[str] = mapped_column(String(128), default="")
    value: Mapped[float | None] = mapped_column(Float, nullable=True)  # None: not supported / unavailable
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    video: Mapped[Video] = relationship()


class GenerationJob(Base):
    """One video a live battle waits for. Queued jobs belong to no process: any app process's workers claim them
    (a conditional UPDATE), so several processes on one database share one fair queue."""

    __tablename__ = "generation_jobs"
    __table_args__ = (Index("ix_generation_jobs_status_model", "status", "model_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    battle_id: Mapped[str] = mapped_column(ForeignKey("battles.id"), index=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"))
    seed: Mapped[int] = mapped_column(Integer)
    client: Mapped[str] = mapped_column(String(128))  # who asked (session): the unit of the fair share
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus), default=JobStatus.queued)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1, from the adapter's progress reports
    video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id"), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # full error text: admin only, never public
    public_error: Mapped[str | None] = mapped_column(Text, nullable=True)  # what the voter may be told
    worker_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Worker(Base):
    """A running app process (it runs jobs and prepares battles); its heartbeat says it is alive."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelState(Base):
    """What the running arena knows about a model beyond the models file: the admin's override of ``enabled``
    (None: follow the file) and load failures with their back-off."""

    __tablename__ = "model_state"

    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"), primary_key=True)
    admin_enabled: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    unavailable_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive, reset by a success
    retry_at: Mapped[datetime | None] = mapped_column(nullable=True)  # not tried again before this
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BoardExclusion(Base):
    """A session or an IP hash whose votes the board leaves out (set by the admin; the votes stay stored)."""

    __tablename__ = "board_exclusions"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_board_exclusion"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[ExclusionKind] = mapped_column(_enum(ExclusionKind))
    value: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
