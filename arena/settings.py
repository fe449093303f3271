"""Arena settings, read from ARENA_* environment variables (or a .env file) with pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
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
    prompts_file: Path = Field(default=ROOT / "prompts" / "demo.yaml", description="The prompt suite (YAML)")
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
        default=0.0,
        ge=0,
        description="Refuse votes sooner than this after the videos were shown (e.g. the clip length)",
    )
    matchmaking: Literal["adaptive", "uniform"] = "adaptive"
    matchmaking_refresh_s: float = Field(default=10.0, ge=0, description="Re-read the votes for matchmaking this often")
    gold_rate: float = Field(default=0.1, ge=0.0, le=1.0, description="Share of pool battles that are gold pairs")
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
    default_seed_count: int = Field(default=1, ge=1, description="Seeds pre-generated per (model, prompt)")
    metrics_encoder: str = Field(default="tiny-random", description="open_clip encoder for metrics")
    metrics_checkpoint: Path | None = None
    pool_prefill: bool = Field(default=True, description="Generate the demo models' missing pool videos at start")
    score_on_start: bool = Field(default=True, description="Score unscored videos in the background at start")
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


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
