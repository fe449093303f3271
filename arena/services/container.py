"""Builds every service from the settings: one object the API, the UI and the CLI share."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import MAX_SEED, VideoAdapter
from adapters.config import ModelCatalog, load_models_file
from adapters.errors import AdapterError, AdapterUnavailableError
from adapters.registry import Registry
from arena.services.admin import AdminService
from arena.services.admin_auth import AdminAuth
from arena.services.battles import BattleService, PairChooser
from arena.services.clips import ClipSigner
from arena.services.gate import Gate
from arena.services.generation import PLAYGROUND_RUN, AdapterPool, ArenaGenerationSettings, GenerationService
from arena.services.inputs import clean_text, is_token
from arena.services.jobs import JobQueue
from arena.services.leaderboard import LeaderboardService
from arena.services.limits import RateLimiter
from arena.services.live import LiveBattles, public_failure
from arena.services.matchmaking import MatchmakingChooser
from arena.services.media import MediaStore
from arena.services.metric_board import MetricBoardService
from arena.services.model_state import ModelStates
from arena.services.moderation import Moderation
from arena.services.pool import pool_status
from arena.services.processes import ProcessRegistry
from arena.services.recovery import Recovery
from arena.services.runner import JobRunner
from arena.services.sessions import SessionSigner
from arena.services.spares import SpareFiller
from arena.services.suites import USER_SUITE, refuse_pool_prompt, sync_models, sync_suite, user_prompt
from arena.services.tallies import Tallies
from arena.services.views import PromptJSON, Refusal
from arena.services.vote_writer import VoteWriter
from arena.services.votes import VoteService
from arena.settings import Settings
from arena.suites import load_suite
from db.models import Model, Prompt, Video
from db.session import make_engine, make_session_factory, transaction, upgrade

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrefillReport:
    jobs: int
    stored: int  # videos of these jobs now in the pool (generated now or before)
    failures: tuple[tuple[str, int, str], ...]  # (model, prompt id, reason)
    skipped_models: tuple[str, ...]  # models that could not run here


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


def live_models(session: Session, catalog: ModelCatalog) -> list[str]:
    """Enabled models that can make a video of any prompt now: not clips-only kinds, not backing off after a load
    failure. Only these are drawn for typed prompts."""
    off = ModelStates.backing_off(session)
    out = []
    for model_id, kind in session.execute(
        select(Model.id, Model.kind).where(Model.enabled.is_(True)).order_by(Model.id)
    ):
        try:
            can = catalog.kinds.get(kind).live
        except Exception:  # a kind whose module cannot load here cannot generate either
            can = False
        if can and model_id not in off:
            out.append(model_id)
    return out


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
    pool: AdapterPool
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
        media = MediaStore(settings.media_dir, settings.serve_bytes_per_pixel)
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
            SpareFiller(factory, media, battles.pool, settings.serve_spares),
            admin,
            VoteWriter(votes),
        )

    def start_workers(self) -> None:
        """Run generation jobs in this process (and beat its heartbeat, and sweep up after crashed processes)."""
        self.runner.start()

    def prompts(self, language: str | None = None) -> list[PromptJSON]:
        """The suite prompts (for pickers): id, key, text, language, category."""
        with transaction(self.factory) as session:
            query = select(Prompt).where(Prompt.suite != USER_SUITE).order_by(Prompt.key, Prompt.language)
            if language:
                query = query.where(Prompt.language == language)
            return [
                {"id": p.id, "key": p.key, "text": p.text, "language": p.language, "category": p.category}
                for p in session.scalars(query)
            ]

    def playground(self, model_id: str, prompt: str, seed: int = 0) -> dict[str, object]:
        """Generate (or reuse) one named video; returns its signed URL and provenance. Playground videos are
        kept apart (their own run id): a battle never serves one."""
        if not self.settings.live_generation:
            raise Refusal("live_disabled", "typed prompts are turned off on this arena", 403)
        prompt = clean_text(prompt)
        self.moderation(prompt)
        with transaction(self.factory) as session:
            model = session.get(Model, model_id) if is_token(model_id.replace(".", "_")) else None
            if model is None or not model.enabled:
                raise Refusal("invalid", "unknown or disabled model", 400)
            if model_id not in self.battles.live_models(session):  # a clips-only model's clip is a pool clip
                raise Refusal("not_live", "this model cannot make new videos now (its clips are for battles)", 409)
            refuse_pool_prompt(session, prompt)  # a named clip of a pool prompt would show a model's look on it
            prompt_id = user_prompt(session, prompt).id
        if not 0 <= seed <= MAX_SEED:
            raise Refusal("invalid", f"the seed must be between 0 and {MAX_SEED}", 400)
        try:
            video_id = self.generation.get_or_generate(model_id, prompt_id, seed=seed, run_id=PLAYGROUND_RUN)
        except AdapterError as exc:
            log.warning("playground: %s failed: %s", model_id, exc)
            raise Refusal("generation_failed", public_failure(exc), 502) from exc
        with transaction(self.factory) as session:
            video = session.get_one(Video, video_id)
            return {
                "video_id": video.id,
                "url": self.clips.url(video.id),
                "provenance": video.provenance,
                "latency_s": video.latency_s,
                "model_id": model_id,
            }

    def clip_path(self, name: str) -> str | None:
        video_id = self.clips.verify(name)
        if video_id is None:
            return None
        with transaction(self.factory) as session:
            video = session.get(Video, video_id)
            return str(self.media.path(video.file_path)) if video else None

    def score_pool(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Score every stored video that lacks metric scores (the configured encoder); returns how many."""
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from arena.services.scoring import ScoringService
        from metrics.scorer import Scorer

        settings = self.settings
        scorer = Scorer(
            encoder=settings.metrics_encoder,
            checkpoint=settings.metrics_checkpoint,
            dino=settings.metrics_dino,
            raft=settings.metrics_raft,
        )
        service = ScoringService(self.factory, self.settings.media_dir, scorer)
        return service.score_all(progress=progress)[0]

    def close(self) -> None:
        self.vote_writer.close()
        self.runner.stop()
        self.pool.close()
        self.engine.dispose()

    # -- the pre-generated pool ------------------------------------------------------------------------
    def pool_size(self) -> int:
        with transaction(self.factory) as session:
            return int(session.scalar(select(func.count(Video.id))) or 0)

    def prefill(
        self,
        models: Iterable[str] | None = None,
        kinds: Iterable[str] = ("demo",),
        limit_prompts: int | None = None,
        seeds: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PrefillReport:
        """Generate the missing pool videos of the given models (default: enabled models of cheap kinds) for
        every suite prompt and its seeds 0..seeds-1 (default ``ARENA_DEFAULT_SEED_COUNT``; each prompt has its own
        seeds, see GenerationService.pool_seed), seed 0 of every prompt first; stored ones are skipped, so a
        stopped run resumes. A model that cannot run here (weights missing, server down) is skipped after its
        first failure."""
        seeds = self.settings.default_seed_count if seeds is None else seeds
        with transaction(self.factory) as session:
            query = select(Model.id).where(Model.enabled.is_(True))
            query = query.where(Model.id.in_(list(models))) if models else query.where(Model.kind.in_(list(kinds)))
            model_ids = list(session.scalars(query.order_by(Model.id)))
            prompts = list(session.scalars(select(Prompt).where(Prompt.suite != USER_SUITE).order_by(Prompt.id)))
            prompt_seeds = {p.id: [self.generation.pool_seed(k, p) for k in range(seeds)] for p in prompts}
        prompt_ids = [p.id for p in prompts][:limit_prompts] if limit_prompts else [p.id for p in prompts]
        jobs = [(m, p, prompt_seeds[p][k]) for k in range(seeds) for p in prompt_ids for m in model_ids]
        failures: list[tuple[str, int, str]] = []
        unavailable: set[str] = set()
        stored = 0
        for done, (model_id, prompt_id, seed) in enumerate(jobs, 1):
            if model_id not in unavailable:
                try:
                    self.generation.get_or_generate(model_id, prompt_id, seed=seed)
                    stored += 1
                except AdapterUnavailableError as exc:
                    unavailable.add(model_id)
                    failures.append((model_id, prompt_id, f"unavailable, skipped: {exc.reason}"))
                except Exception as exc:  # one failing generation must not stop the others
                    log.warning("prefill: %s on prompt %s failed: %s", model_id, prompt_id, exc)
                    failures.append((model_id, prompt_id, str(exc)))
            if progress:
                progress(done, len(jobs))
        return PrefillReport(
            jobs=len(jobs), stored=stored, failures=tuple(failures), skipped_models=tuple(sorted(unavailable))
        )

    def pool_status(self) -> list[dict[str, object]]:
        """Per model: battle-eligible videos and how many suite prompts they cover."""
        with transaction(self.factory) as session:
            return pool_status(session, self.generation.key)
