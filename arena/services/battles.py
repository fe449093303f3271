"""Starting battles: pick a prompt and two distinct enabled models, from the stored pool or generated live.

All state is in the database, so several app processes on one database serve the same battles.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import MAX_SEED
from arena.services.generation import GenerationService
from arena.services.gold import GoldPairs
from arena.services.inputs import clean_text, is_token
from arena.services.jobs import JobQueue, JobSpec
from arena.services.live import live_pair, void_battle
from arena.services.media import MediaStore, new_token
from arena.services.open_battles import OPEN_STATUSES, OpenBattles
from arena.services.pairs import Candidate, PairChooser, uniform_choice
from arena.services.pool import pick_clip, revealed_to
from arena.services.pool_snapshot import PoolSnapshot, PoolSnapshots
from arena.services.reveal_timing import view_state
from arena.services.suites import NAMED_TYPED_ONLY, USER_SUITE, check_language, refuse_pool_prompt, user_prompt
from arena.services.views import BattleView, Refusal, aware
from db.locks import lock_names
from db.models import PINNED, Battle, BattleMode, BattleStatus, Model, Prompt, utcnow
from db.session import transaction

log = logging.getLogger(__name__)
__all__ = ["BattleService", "Candidate", "PairChooser", "uniform_choice"]  # the pair types live in pairs.py


def url_for_token(token: str) -> str:
    return f"/media/{token}.mp4"


class BattleService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        media: MediaStore,
        generation: GenerationService,
        *,
        chooser: PairChooser = uniform_choice,
        gold_pairs: Sequence[tuple[str, str]] = (),
        gold_rate: float = 0.0,
        live_generation: bool = True,
        ttl_s: int = 3600,
        url_for: Callable[[str], str] = url_for_token,
        max_open: int = 3,
        max_open_ip: int = 30,
        queue: JobQueue | None = None,
        live_models: Callable[[Session], Sequence[str]] | None = None,
        moderate: Callable[[str], None] | None = None,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.factory = factory
        self.media = media
        self.generation = generation
        self.chooser = chooser
        self.gold = GoldPairs(gold_pairs)  # (known better, known worse): their pool battles are checks (gold.py)
        self.gold_rate = gold_rate
        self.live_generation = live_generation
        self.ttl = timedelta(seconds=ttl_s)
        self.open_battles = OpenBattles(self.ttl)
        self.url_for = url_for
        self.max_open = max_open  # unvoted battles per session: a newer one withdraws the oldest
        self.max_open_ip = max_open_ip  # unvoted battles per IP hash: more are refused
        # Live battles: missing videos become jobs of the shared queue (``on_queued`` wakes this process's
        # workers); only ``live_models`` (models that can make any prompt now) are drawn for them.
        self.queue = queue or JobQueue(factory, "none", lambda _m: 1)
        self.live_models = live_models or self._enabled_models
        self.moderate = moderate  # raises a Refusal for a typed prompt the arena does not take
        self.on_queued = on_queued
        self.pool = PoolSnapshots(generation.key)  # the pool's clips and pairs, re-read when the pool changes
        self._placement = random.SystemRandom()  # left/right placement must not be predictable
        self.draws: random.Random | None = None  # unset: fresh draws per battle (tests seed it to replay a run)

    # -- choosing -----------------------------------------------------------------------------------
    def pool_candidates(
        self,
        session: Session,
        prompt_id: int | None = None,
        models: Sequence[str] | None = None,
        language: str | None = None,
    ) -> list[Candidate]:
        """Every (prompt, pair) for which both enabled models have a battle video (the arena's settings, not a
        Playground video) of a suite prompt."""
        return list(self.pool.get(session).select(prompt_id, models, language))

    def _enabled_models(self, session: Session) -> list[str]:
        return list(session.scalars(select(Model.id).where(Model.enabled.is_(True)).order_by(Model.id)))

    def _pick(
        self,
        session: Session,
        rng: random.Random,
        prompt_id: int | None,
        prompt_text: str | None,
        models: Sequence[str] | None,
        language: str | None,
        named: bool = False,
        gold: bool = False,
        pool: PoolSnapshot | None = None,
    ) -> tuple[int, str, str, str, float]:
        """(prompt_id, model_a, model_b, source, design weight) of a new battle; named ones take typed prompts only;
        ``gold``: an extra gold battle, drawn like the others from the candidates of gold pairs (if any)."""
        check_language(session, language)
        pool = pool or self.pool.get(session)
        enabled = pool.enabled
        if models is not None:
            if len(models) != 2 or models[0] == models[1]:
                raise Refusal("invalid", "choose two different models", 400)
            unknown = [m for m in models if m not in enabled]
            if unknown:
                shown = ", ".join(m if is_token(m.replace(".", "_")) else "(not an id)" for m in unknown)
                raise Refusal("invalid", f"unknown or disabled model: {shown}", 400)
        if len(enabled) < 2:
            raise Refusal("no_models", "the arena needs at least two enabled models", 503)
        if named and prompt_text is None:  # suite prompts are the pool's: named clips of them would map its looks
            raise Refusal("pool_prompt", "named battles take a typed prompt; " + NAMED_TYPED_ONLY, 403)
        if prompt_text is not None:
            if not self.live_generation:
                raise Refusal("live_disabled", "typed prompts are turned off on this arena", 403)
            refuse_pool_prompt(session, prompt_text, named=named)
            a, b = live_pair(self.live_models(session), rng, models)
            return user_prompt(session, prompt_text).id, a, b, "named" if named else "live", 1.0
        if prompt_id is not None:
            chosen_prompt = session.get(Prompt, prompt_id)
            if chosen_prompt is None or chosen_prompt.suite == USER_SUITE:  # typed prompts are not for others
                raise Refusal("unknown_prompt", f"no prompt {prompt_id}", 404)
        candidates = pool.select(prompt_id, models, language)
        checks = self.gold.restrict(candidates)  # for every start: the same work whatever was drawn
        if gold and checks:
            chosen = self.chooser(checks, rng)
            return chosen.prompt_id, chosen.model_a, chosen.model_b, "gold", 1.0
        if candidates:
            chosen = self.chooser(candidates, rng)
            return chosen.prompt_id, chosen.model_a, chosen.model_b, "pool", chosen.design_weight
        if not self.live_generation:
            raise Refusal("empty_pool", "no stored videos for this choice, and live generation is off", 503)
        if prompt_id is None:
            query = select(Prompt.id).where(Prompt.suite != USER_SUITE)
            suite_ids = list(session.scalars(query.where(Prompt.language == language) if language else query))
            if not suite_ids:
                raise Refusal("no_prompts", "no prompts are loaded", 503)
            prompt_id = rng.choice(suite_ids)
        a, b = live_pair(self.live_models(session), rng, models)
        return prompt_id, a, b, "live", 1.0

    # -- starting -----------------------------------------------------------------------------------
    def start(
        self,
        session_id: str,
        *,
        prompt_id: int | None = None,
        prompt_text: str | None = None,
        mode: BattleMode = BattleMode.anonymous,
        models: Sequence[str] | None = None,
        language: str | None = None,
        rng: random.Random | None = None,
        ip_hash: str | None = None,
    ) -> BattleView:
        """Create a battle (``language`` narrows the suite prompts). A battle whose videos are missing (typed
        prompts) returns at once in "generating", its videos queued (the fair-share key: the IP hash, else the
        session); it turns "shown" only when both exist, so arrival time gives nothing away."""
        rng = rng or self.draws or random.Random()
        mode = BattleMode(mode)
        if prompt_text is not None:
            prompt_text = clean_text(prompt_text)
            if self.moderate is not None:
                self.moderate(prompt_text)
        prefetch = getattr(self.chooser, "prefetch", None)
        if prefetch is not None:  # outside the transaction: see MatchmakingChooser.prefetch
            prefetch()
        with transaction(self.factory) as session:  # reads only, unless the battle waits for videos
            self._cap_address(session, ip_hash)  # early: a refused start makes no copies
            pool = self.pool.get(session)
            drawn = rng.random() < self.gold_rate  # drawn for every battle: the same work whatever comes of it
            gold = drawn and mode == BattleMode.anonymous and (prompt_id, prompt_text, models) == (None, None, None)
            named = mode == BattleMode.named
            pick = self._pick(session, rng, prompt_id, prompt_text, models, language, named, gold, pool)
            pid, a, b, source, weight = pick
            pinned = mode == BattleMode.anonymous and prompt_id is not None and prompt_text is None
            source = PINNED if pinned else source  # a prompt the client chose: kept off the board (see README)
            left, right = (a, b) if self._placement.random() < 0.5 else (b, a)
            typed = prompt_text is not None  # never an earlier generation: a repeated text would name its sides
            revealed = revealed_to(session, pid, session_id, ip_hash) if not typed else None
            existing = {  # drawn in the pair's order, not the random placement's: a seeded draw replays
                m: None if typed else pick_clip(pool.clip_ids(m, pid), revealed or Counter(), rng) for m in (a, b)
            }
            missing = [m for m in (left, right) if existing[m] is None]
            battle = Battle(
                id=new_token()[:24].replace("-", "x").replace("_", "y"),
                mode=mode,
                source=source,
                prompt_id=pid,
                left_model_id=left,
                right_model_id=right,
                left_token=new_token(),
                right_token=new_token(),
                session_id=session_id,
                ip_hash=ip_hash,
                worker_id=self.queue.worker_id,
                status=BattleStatus.created,
                is_gold=source == "gold",  # drawn outside the design: off the board
                design_weight=weight,
                created_at=utcnow(),  # (when it was drawn: its row is written later, once its copies exist)
            )
            battle_id, tokens = battle.id, {left: battle.left_token, right: battle.right_token}
            if not missing and mode == BattleMode.anonymous:  # pool clips: a check if a gold pair's (gold.py)
                hashes = [pool.clip(m, pid, existing[m]).content_hash for m in (left, right)]  # type: ignore[arg-type]
                battle.gold_better = self.gold.answer(left, right, *hashes)
            if missing:  # typed prompts (named ones too) get a fresh seed, both sides one; suite prompts the pool's
                prompt = session.get_one(Prompt, pid)
                seed = self._placement.randint(0, MAX_SEED) if typed else self.generation.pool_seed(0, prompt)
                battle.status = BattleStatus.generating
                battle.left_video_id, battle.right_video_id = existing[left], existing[right]
                self._add_within_caps(session, battle)
                jobs = [JobSpec(m, pid, seed) for m in missing]
                self.queue.enqueue(session, battle_id, session_id, ip_hash or session_id, jobs)
                session.flush()
                queued = self._view(session, battle)
        if missing:
            if self.on_queued is not None:
                self.on_queued()
            return queued
        video_ids = {m: v for m, v in existing.items() if v is not None}
        files = {m: pool.clip(m, pid, video_ids[m]).file_path for m in (left, right)}
        failed, sizes = None, []
        began = self.media.copy_times.clock()
        try:  # file work outside any transaction: a write lock is never held while copying
            for model_id, token in tokens.items():
                pool_video = video_ids[model_id] if source in ("pool", "gold", PINNED) else None  # spares: pool
                sizes.append(self.media.prepare_served(files[model_id], token, pool_video).stat().st_size)
        except (OSError, ValueError) as exc:
            log.exception("battle %s: preparing its videos failed", battle_id)
            failed = f"The videos could not be prepared ({type(exc).__name__}); this battle is void."
        # Written once its copies exist, in one write transaction: shown (or void). A crash before it leaves only
        # served files no battle names, which the recovery sweep deletes.
        battle.left_video_id, battle.right_video_id = video_ids[left], video_ids[right]
        if failed is None:
            battle.status, battle.shown_at = BattleStatus.shown, utcnow()
        else:
            battle.status, battle.status_reason = BattleStatus.voided, failed
            for token in tokens.values():
                self.media.remove_served(token)
        try:
            with transaction(self.factory) as session:
                if failed is None:
                    self._add_within_caps(session, battle)
                else:  # void: not open, so under no cap
                    session.add(battle)
                    session.flush()
                view = self._view(session, battle)
        except Refusal:
            for token in tokens.values():
                self.media.remove_served(token)
            raise
        # Its answer waits as long as the slow copies of its sizes take (the caller waits: see views.BattleView).
        return view if failed else replace(view, hand_over_at=self.media.hand_over_at(began, sizes))

    def _add_within_caps(self, session: Session, battle: Battle) -> None:
        """Write ``battle`` (as it is: a Core INSERT of its set columns, the object stays outside the session), then
        apply the caps counting it: on SQLite its INSERT holds the write lock, so starts arriving together count each
        other (a check that only reads before the write lets all of them through); on PostgreSQL a lock per session
        and per address makes them take turns."""
        address = [f"open-battles:ip:{battle.ip_hash}"] if battle.ip_hash is not None else []
        lock_names(session, f"open-battles:session:{battle.session_id}", *address)
        table = cast(Table, Battle.__table__)
        session.execute(insert(table).values({k: v for k, v in vars(battle).items() if k in table.c}))
        self._withdraw(session, self._cap_open(session, battle.session_id, battle.ip_hash, battle.id))

    def _cap_open(self, session: Session, session_id: str, ip_hash: str | None, new: str) -> list[str]:
        """At most ``max_open`` unvoted battles per session (returns the oldest, to be withdrawn with the new
        battle's write: :meth:`_withdraw`) and ``max_open_ip`` per IP hash (refused), so votes cannot be batched
        past the minimum viewing time. ``new``: the starting battle, already written (not counted)."""
        counted = self.open_battles.of_client(session, session_id, ip_hash, new)
        self._refuse_address(counted.address)
        return counted.mine[self.max_open - 1 :]

    def _cap_address(self, session: Session, ip_hash: str | None) -> None:
        """Refuse a start from an address with ``max_open_ip`` unvoted battles."""
        self._refuse_address(self.open_battles.of_address(session, ip_hash))

    def _refuse_address(self, count: int) -> None:
        if count >= self.max_open_ip:
            raise Refusal(
                "too_many_open",
                f"{count} unvoted battles from this network address; vote on them or wait",
                429,
                retry_after=60,
            )

    @staticmethod
    def _withdraw(session: Session, stale: list[str]) -> None:
        if stale:
            session.execute(
                update(Battle)
                .where(Battle.id.in_(stale), Battle.status.in_(OPEN_STATUSES))
                .values(status=BattleStatus.expired, status_reason="withdrawn: a newer battle was started")
                .execution_options(synchronize_session=False)
            )
        for battle_id in stale:
            JobQueue.cancel_battle(session, battle_id)  # a withdrawn live battle's waiting jobs will not run

    # -- reading and voiding --------------------------------------------------------------------------
    def _view(self, session: Session, battle: Battle) -> BattleView:
        prompt = session.get_one(Prompt, battle.prompt_id)
        named = battle.mode == BattleMode.named
        names = (
            {
                m.id: m.display_name
                for m in session.scalars(
                    select(Model).where(Model.id.in_([battle.left_model_id, battle.right_model_id]))
                )
            }
            if named
            else {}
        )
        status, ready, queue = view_state(session, battle, utcnow())  # a live battle's wait names no model
        return BattleView(
            id=battle.id,
            mode=battle.mode.value,
            status=status,
            prompt=prompt.text,
            prompt_id=prompt.id,
            language=prompt.language,
            category=prompt.category,
            left_url=self.url_for(battle.left_token) if ready else None,
            right_url=self.url_for(battle.right_token) if ready else None,
            reason=battle.status_reason,
            left_name=names.get(battle.left_model_id),
            right_name=names.get(battle.right_model_id),
            queue_position=queue.position if queue else None,
            progress=queue.progress if queue else None,
        )

    def get(self, battle_id: str, session_id: str) -> BattleView:
        with transaction(self.factory) as session:
            battle = session.get(Battle, battle_id)
            if battle is None or battle.session_id != session_id:
                raise Refusal("unknown_battle", "no such battle in this session", 404)
            return self._view(session, battle)

    def void(self, battle_id: str, reason: str) -> BattleView:
        """Void an open battle (its waiting jobs cancelled, its served copies deleted) and return it."""
        void_battle(self.factory, self.media, battle_id, reason)
        with transaction(self.factory) as session:
            return self._view(session, session.get_one(Battle, battle_id))

    def is_expired(self, battle: Battle) -> bool:
        start = aware(battle.shown_at) or aware(battle.created_at)
        return start is not None and utcnow() - start > self.ttl

    def video_for_token(self, token: str) -> str | None:
        """The served file of a token, while its battle is live or voted (voided/expired ones are not served).
        The first request of each side is recorded: the viewing time counts from when both videos reached the
        client."""
        with transaction(self.factory) as session:
            battle = session.scalar(select(Battle).where((Battle.left_token == token) | (Battle.right_token == token)))
            if battle is None or battle.status not in (BattleStatus.shown, BattleStatus.voted):
                return None
            column = Battle.left_fetched_at if token == battle.left_token else Battle.right_fetched_at
            if battle.status == BattleStatus.shown and getattr(battle, column.key) is None:
                session.execute(
                    update(Battle).where(Battle.id == battle.id, column.is_(None)).values({column.key: utcnow()})
                )
        path = self.media.served_path(token)
        return str(path) if path.exists() else None
