"""Builds every service from the settings: one object the API, the UI and the CLI share."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import VideoAdapter
from adapters.config import ModelCatalog, load_models_file
from adapters.registry import Registry
from arena.services.admin import AdminService
from arena.services.admin_auth import AdminAuth
from arena.services.battles import BattleService, PairChooser
from arena.services.clips import ClipSigner
from arena.services.gate import Gate
from arena.services.generation import AdapterPool, ArenaGenerationSettings, GenerationService
from arena.services.jobs import JobQueue
from arena.services.leaderboard import LeaderboardService
from arena.services.limits import RateLimiter
from arena.services.live import LiveBattles
from arena.services.matchmaking import MatchmakingChooser
from arena.services.media import MediaStore
from arena.services.metric_board import MetricBoardService
from arena.services.model_state import ModelStates, live_models
from arena.services.moderation import Moderation
from arena.services.playground import Playground
from arena.services.pool_videos import PoolVideos
from arena.services.processes import ProcessRegistry
from arena.services.recovery import Recovery
from arena.services.runner import JobRunner
from arena.services.sessions import SessionSigner
from arena.services.spares import SpareFiller
from arena.services.suites import SuitePrompts, sync_models, sync_suite
from arena.services.tallies import Tallies
from arena.services.vote_writer import VoteWriter
from arena.services.votes import VoteService
from arena.settings import Settings
from arena.suites import load_suite
from db.session import make_engine, make_session_factory, transaction, upgrade

DEFAULT_SECRET = "change-me"


def with_secret(settings: Settings) -> Settings:
    """Settings whose secret is not the public default: an unset secret becomes a random one kept in a file beside
    the media folder (0600), so IP hashes and signed URLs stay stable across restarts of this install."""
    if settings.secret != DEFAULT_SECRET:
        return settings
    path = settings.media_dir.parent / "secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made before, or by another process starting at the same moment
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return settings.model_copy(update={"secret": path.read_text().strip()})


def _gold_pairs(specs: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for spec in specs:
        better, sep, worse = spec.partition(">")
        if not sep or not better.strip() or not worse.strip():
            raise ValueError(f"gold pair {spec!r} must look like 'better-model>worse-model'")
        pairs.append((better.strip(), worse.strip()))
    return pairs


@dataclass
class Arena:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    catalog: ModelCatalog
    media: MediaStore
    adapters: AdapterPool  # the loaded generators (pool_videos: the pre-generated battle videos)
    generation: GenerationService
    battles: BattleService
    votes: VoteService
    leaderboard: LeaderboardService
    clips: ClipSigner
    metric_board: MetricBoardService
    gate: Gate
    states: ModelStates
    queue: JobQueue
    runner: JobRunner
    recovery: Recovery
    moderation: Moderation
    spares: SpareFiller
    admin: AdminService
    vote_writer: VoteWriter
    prompts: SuitePrompts
    playground: Playground
    pool_videos: PoolVideos

    @classmethod
    def create(
        cls,
        settings: Settings,
        *,
        chooser: PairChooser | None = None,
        kinds: Registry[VideoAdapter] | None = None,
    ) -> Arena:
        """Upgrade the schema, load the models file and the prompt suite, and wire the services."""
        settings = with_secret(settings)
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        factory = make_session_factory(engine)
        catalog = load_models_file(settings.models_file, kinds)
        suite = load_suite(settings.prompts_file)
        tallies = Tallies(settings.gold_policy)
        moderation = Moderation(settings.moderation_blocklist, settings.moderation_hook)
        states = ModelStates(factory, backoff_s=settings.model_backoff_s, backoff_max_s=settings.model_backoff_max_s)
        with transaction(factory) as session:
            sync_models(session, catalog)
            states.apply_overrides(session)
            sync_suite(session, suite)
            tallies.ensure_fresh(session)  # a database that had votes before the tallies existed: count them once
        media = MediaStore(settings.media_dir, settings.serve_bytes_per_pixel, spares_per_video=settings.serve_spares)
        pool = AdapterPool(catalog, settings.generation_timeout_s)
        generation = GenerationService(
            factory,
            media,
            pool,
            ArenaGenerationSettings(
                num_frames=settings.default_num_frames,
                width=settings.default_width,
                height=settings.default_height,
                fps=settings.default_fps,
            ),
            secret=settings.secret,
            states=states,
        )
        registry = ProcessRegistry(factory, stale_s=settings.process_stale_s)
        queue = JobQueue(
            factory,
            registry.id,
            lambda model_id: settings.generation_concurrency.get(model_id) or pool.max_concurrency(model_id),
            max_queued=settings.generation_queue_max,
            per_session=settings.live_battles_per_session,
        )
        live = LiveBattles(factory, media)
        recovery = Recovery(
            factory, media, registry, live, ttl_s=settings.battle_ttl_s, orphan_grace_s=settings.orphan_grace_s
        )
        runner = JobRunner(
            queue,
            generation,
            live,
            registry,
            lambda starting: recovery.sweep(starting=starting),
            threads=settings.generation_workers,
            heartbeat_s=settings.heartbeat_s,
            sweep_s=settings.sweep_s,
        )
        leaderboard = LeaderboardService(factory, settings, tallies=tallies)
        battles = BattleService(
            factory,
            media,
            generation,
            chooser=chooser or MatchmakingChooser(leaderboard, settings.matchmaking, settings.matchmaking_refresh_s),
            gold_pairs=_gold_pairs(settings.gold_pairs),
            gold_rate=settings.gold_rate,
            live_generation=settings.live_generation,
            ttl_s=settings.battle_ttl_s,
            max_open=settings.max_open_battles,
            max_open_ip=settings.max_open_battles_ip,
            queue=queue,
            live_models=lambda session: live_models(session, catalog),
            moderate=moderation,
            on_queued=runner.wake,
        )
        votes = VoteService(factory, battles, settings.secret, settings.min_view_s, tallies)
        clips = ClipSigner(settings.secret)
        metric_board = MetricBoardService(factory, leaderboard, settings.metrics_encoder)
        limiter = RateLimiter(settings)
        gate = Gate(SessionSigner(settings.secret), limiter, settings.secret)
        admin = AdminService(
            factory,
            auth=AdminAuth(settings),
            states=states,
            queue=queue,
            media=media,
            tallies=tallies,
            limiter=limiter,
            recovery=recovery,
        )
        return cls(
            settings,
            engine,
            factory,
            catalog,
            media,
            pool,
            generation,
            battles,
            votes,
            leaderboard,
            clips,
            metric_board,
            gate,
            states,
            queue,
            runner,
            recovery,
            moderation,
            SpareFiller(factory, media, battles.pool),
            admin,
            VoteWriter(votes),
            SuitePrompts(factory),
            Playground(
                factory,
                generation,
                media,
                clips,
                enabled=settings.live_generation,
                live_models=battles.live_models,
                moderate=moderation,
            ),
            PoolVideos(factory, generation, settings.default_seed_count),
        )

    def start_workers(self) -> None:
        """Run generation jobs in this process (and beat its heartbeat, and sweep up after crashed processes)."""
        self.runner.start()

    def close(self) -> None:
        self.vote_writer.close()
        self.runner.stop()
        self.adapters.close()
        self.engine.dispose()
