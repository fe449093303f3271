"""Arena settings, read from ARENA_* environment variables (or a .env file) with pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of the arena. Environment: ``ARENA_<NAME>`` (e.g. ``ARENA_DATABASE_URL``)."""

    model_config = SettingsConfigDict(env_prefix="ARENA_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'data' / 'arena.db'}",
        description="Any SQLAlchemy URL: sqlite:///path.db (default) or postgresql+psycopg://user@host/db",
    )
    media_dir: Path = Field(default=ROOT / "data" / "media", description="Where stored MP4 files live")
    models_file: Path = Field(default=ROOT / "models.yaml", description="The models file (YAML)")
    prompts_file: Path = Field(
        default=ROOT / "arena" / "suites" / "data" / "demo.yaml",
        description="The arena's prompt suite (a file of any suite format; built-in suites in arena/suites/data)",
    )
    secret: str = Field(
        default="change-me",
        description="Server secret: salts IP hashes, signs clip URLs, derives pool seeds (unset: random, data/secret)",
    )
    min_votes: int = Field(default=5, ge=0, description="Votes a model needs before it appears on the board")
    bootstrap_rounds: int = Field(
        default=1000, ge=0, le=10_000, description="Bootstrap rounds of the board's intervals"
    )
    anchor_model: str | None = Field(default=None, description="Pin this model's rating at 1000")
    live_generation: bool = Field(default=True, description="Allow typed prompts (generated live)")
    battle_ttl_s: int = Field(default=3600, ge=10, description="A battle not voted on within this expires")
    min_view_s: float = Field(
        default=2.0,
        ge=0,
        description="Refuse votes sooner than this after both videos reached the client and after the session's "
        "last vote (default: the default clip's length, 16 frames at 8 fps); simulated voters are exempt",
    )
    matchmaking: Literal["adaptive", "uniform"] = "adaptive"
    matchmaking_refresh_s: float = Field(default=10.0, ge=0, description="Re-read the votes for matchmaking this often")
    gold_rate: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="Share of pool battles drawn as extra gold checks (off the board); all of a gold pair check",
    )
    gold_pairs: list[str] = Field(
        default_factory=lambda: ["demo-faithful>demo-frozen", "demo-faithful>demo-colourblind"],
        description="Known-better>known-worse model pairs used as gold checks (ignored when absent)",
    )
    gold_policy: Literal["none", "downweight", "exclude"] = Field(
        default="downweight", description="What to do with sessions failing gold pairs (>= 3 gold votes, < 70 %)"
    )
    default_num_frames: int = 16
    default_width: int = 256
    default_height: int = 256
    default_fps: float = Field(default=8.0, gt=0, le=120, description="Playback rate of every arena video")
    default_seed_count: int = Field(
        default=3,
        ge=1,
        description="Pool clips per (model, prompt), each of its own seed (prefill and `arena pool fill`): a clip "
        "revealed to a voter comes back less often",
    )
    metrics_encoder: str = Field(
        default="shapes-clip", description="open_clip encoder for metrics (default: the shapes-world CLIP shipped here)"
    )
    metrics_checkpoint: Path | None = None
    metrics_dino: str = Field(
        default="auto", description="DINO of subject consistency: auto (first in the HF cache), an id, or a folder"
    )
    metrics_raft: Path | None = Field(default=None, description="torchvision RAFT state dict (default: torch hub's)")
    pool_prefill: bool = Field(default=True, description="Generate the demo models' missing pool videos at start")
    score_on_start: bool = Field(default=True, description="Score unscored videos in the background at start")
    demo_crowd_votes: int = Field(
        default=300,
        ge=0,
        description="Simulated votes cast at start onto the Simulated board, after the pool is scored (0: none; "
        "only when every enabled model is a demo model)",
    )
    workers: int = Field(default=2, ge=1, description="Concurrent events per app process")
    queue_size: int = Field(default=64, ge=1)
    in_house_model: str | None = Field(default=None, description="Model shown in the in-house vs rivals view")
    decision_alpha: float = Field(
        default=0.05, gt=0.0, lt=0.5, description="Error rate a verdict promises over the family of verdicts shown"
    )
    decision_method: Literal["holm", "bh"] = Field(
        default="holm", description="holm: chance of any false verdict; bh: expected share of false verdicts"
    )
    equivalence_margin: float = Field(
        default=20.0, ge=0.0, description="Rating points within which two models are called equivalent"
    )
    power_gap: float = Field(
        default=50.0, gt=0.0, description="Gap (rating points) the anytime intervals and the votes-needed plan target"
    )
    leaderboard_clips: bool = Field(
        default=False,
        description="Show named clips of the prompts the in-house model loses (off on a public arena: a named "
        "pool clip lets voters recognise it in later battles)",
    )
    # -- live generation queue (jobs in the database, shared by every app process) --
    generation_workers: int = Field(default=2, ge=0, description="Threads per app process running generation jobs")
    generation_queue_max: int = Field(default=256, ge=1, description="Jobs that may wait in all (then 503)")
    live_battles_per_session: int = Field(
        default=2, ge=1, description="Live battles one session may wait for at once (then 429)"
    )
    generation_concurrency: dict[str, int] = Field(
        default_factory=dict, description="Per model: generations at once across processes (default: the adapter's)"
    )
    model_backoff_s: float = Field(default=30.0, gt=0, description="First wait before retrying a model that failed")
    model_backoff_max_s: float = Field(default=3600.0, gt=0, description="Longest wait (the back-off doubles)")
    heartbeat_s: float = Field(default=5.0, gt=0, description="How often an app process says it is alive")
    process_stale_s: float = Field(
        default=60.0,
        gt=0,
        description="A process on another host silent this long is taken as gone (on this host: when its pid is)",
    )
    sweep_s: float = Field(default=30.0, gt=0, description="How often crashed processes' leftovers are cleaned")
    orphan_grace_s: float = Field(
        default=600.0, gt=0, description="Files no row refers to are deleted once this old (a write may be under way)"
    )
    # -- moderation of typed prompts --
    moderation_blocklist: Path | None = Field(default=None, description="Block-list file: one word or phrase a line")
    moderation_hook: str | None = Field(
        default=None, description="'package.module:function': returns None to accept a prompt, or a reason to refuse"
    )
    # -- admin (no default password: without one the admin tab and API are off) --
    admin_password: SecretStr | None = Field(default=None, description="Admin secret (or ARENA_ADMIN_PASSWORD_FILE)")
    admin_password_file: Path | None = Field(default=None, description="A file holding the admin secret")
    # -- a public arena: limits per session and per IP hash ("N/second|minute|hour|day", ';' between several) --
    rate_limits: bool = Field(default=True, description="Enforce the rate limits below (off: load tests only)")
    rate_limit_storage: str = Field(
        default="memory://", description="limits storage URI: memory:// (per process) or redis://host:port (shared)"
    )
    limit_sessions_ip: str = Field(default="30/minute;500/hour", description="New sessions per IP hash")
    limit_battles: str = Field(default="20/minute;400/hour", description="Battle starts per session")
    limit_battles_ip: str = Field(default="60/minute;2000/hour", description="Battle starts per IP hash")
    limit_typed: str = Field(default="4/minute;40/hour", description="Typed-prompt battles per session")
    limit_typed_ip: str = Field(default="10/minute;100/hour", description="Typed-prompt battles per IP hash")
    limit_votes: str = Field(default="20/minute;400/hour", description="Votes per session")
    limit_votes_ip: str = Field(default="60/minute;2000/hour", description="Votes per IP hash")
    limit_playground: str = Field(default="4/minute;40/hour", description="Playground generations per session")
    limit_playground_ip: str = Field(default="10/minute;100/hour", description="Playground generations per IP hash")
    generation_timeout_s: float = Field(
        default=900.0, gt=0, description="A generation with no video after this fails (its battle is voided)"
    )
    serve_bytes_per_pixel: float = Field(
        default=0.12,
        gt=0.01,
        le=2.0,
        description="Every frame of a served copy is padded to this many bytes per pixel (sizes then say nothing)",
    )
    serve_spares: int = Field(default=1, ge=0, le=20, description="Copies of each pool clip prepared ahead")
    start_concurrency: int = Field(
        default=4,
        ge=1,
        description="Battle starts of the JSON API run at once per app process (the others wait their turn without"
        " holding a thread, so votes, media and health are not queued behind them)",
    )
    max_open_battles: int = Field(
        default=3, ge=1, description="Unvoted battles a session may hold; starting another withdraws its oldest"
    )
    max_open_battles_ip: int = Field(default=30, ge=1, description="Unvoted battles per IP hash; more are refused")

    @model_validator(mode="after")
    def _stale_after_several_beats(self) -> Settings:
        if self.process_stale_s < 3 * self.heartbeat_s:  # (one late beat would void a living process's battles)
            raise ValueError(
                f"process_stale_s ({self.process_stale_s}) must be at least 3 heartbeats ({3 * self.heartbeat_s})"
            )
        return self


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
