"""After a crash: void what was left half-done, delete what nothing refers to, and check that all is consistent.

Run at start and on a timer by every app process. A battle left "generating" (its jobs running) or "created"
(earlier versions wrote a pool battle before its copies) by a process that is gone is voided and its served
copies deleted; jobs that process was running are failed. Files: original videos no row refers to (a crash
between writing the file and inserting its row), served copies no battle names (a crash between preparing a pool
battle's copies and writing its row) and stale temporary files are deleted once older than a grace period, so a
write in progress elsewhere is never touched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from arena.services.jobs import JobQueue
from arena.services.live import LiveBattles, void_battle
from arena.services.media import MediaStore
from arena.services.processes import ProcessRegistry
from arena.services.tally_check import check_tallies
from arena.services.views import aware
from db.models import Battle, BattleStatus, GenerationJob, JobStatus, Video, Vote, utcnow
from db.session import transaction

INTERRUPTED = "the server restarted while this battle was being prepared"
INTERRUPTED_BATTLE = "The server restarted while this battle was being prepared; this battle is void."
WAITED_TOO_LONG = "This battle waited too long for its videos; this battle is void."
CLOSED = (BattleStatus.voided, BattleStatus.expired)
CREATED, GENERATING = (BattleStatus.created,), (BattleStatus.generating,)  # (only if still so when voided)


@dataclass(frozen=True)
class SweepReport:
    voided: tuple[str, ...] = ()
    failed_jobs: int = 0
    dead_processes: int = 0
    files_removed: int = 0


@dataclass(frozen=True)
class IntegrityReport:
    database: str  # "ok", or what the database's own check said
    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.database == "ok" and not any(self.problems.values())


class Recovery:
    def __init__(
        self,
        factory: sessionmaker[Session],
        media: MediaStore,
        registry: ProcessRegistry,
        live: LiveBattles,
        *,
        ttl_s: float = 3600.0,
        created_grace_s: float = 120.0,
        orphan_grace_s: float = 600.0,
    ) -> None:
        self.factory = factory
        self.media = media
        self.registry = registry
        self.live = live
        self.ttl = timedelta(seconds=ttl_s)
        self.created_grace = timedelta(seconds=created_grace_s)
        self.orphan_grace_s = orphan_grace_s

    # -- sweeping ---------------------------------------------------------------------------------------------
    def sweep(self, files: bool = True, *, starting: bool = False) -> SweepReport:
        """Void what gone processes left, fail their jobs, delete leftover files. ``starting``: this process has
        not begun writing yet, so when no other process is alive no write can be under way and orphan files of any
        age go at once (otherwise only those older than the grace period)."""
        now = utcnow()
        with transaction(self.factory) as session:
            dead = self.registry.dead(session)
            alive = self.registry.alive(session)
            alone = not (alive - {self.registry.id})
            failed = JobQueue.fail_orphans(session, alive, INTERRUPTED)
            self.registry.forget(session, dead)
            stuck = [
                battle_id
                for battle_id, worker, created in session.execute(
                    select(Battle.id, Battle.worker_id, Battle.created_at).where(Battle.status == BattleStatus.created)
                )
                if worker in dead or aware(created) < now - self.created_grace
            ]
            generating = session.execute(
                select(Battle.id, Battle.created_at).where(Battle.status == BattleStatus.generating)
            ).all()
        voided = [b for b in stuck if void_battle(self.factory, self.media, b, INTERRUPTED_BATTLE, CREATED)]
        for battle_id, created in generating:
            if aware(created) < now - self.ttl:
                if void_battle(self.factory, self.media, battle_id, WAITED_TOO_LONG, GENERATING):
                    voided.append(battle_id)
            elif self.live.settle(battle_id) == BattleStatus.voided.value:
                voided.append(battle_id)
        removed = self.clean_files(grace_s=0.0 if starting and alone else None) if files else 0
        return SweepReport(tuple(voided), failed, len(dead), removed)

    def clean_files(self, grace_s: float | None = None) -> int:
        """Served copies of closed battles; original files no row refers to, served copies no battle names and
        stale temporary files once older than ``grace_s`` (default: the grace period; a file is written just before
        its row)."""
        removed = 0
        tokens, named, closed = self._served()
        for token in closed:
            removed += self.media.remove_served(token)
        cutoff = time.time() - (self.orphan_grace_s if grace_s is None else grace_s)
        for path in self._orphans() + [p for t, p in tokens.items() if t not in named]:
            if _older(path, cutoff):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _served(self) -> tuple[dict[str, Path], set[str], set[str]]:
        """The served copies by token, the tokens of them that a battle names, and those of closed battles."""
        served = self.media.root / "served"
        tokens = {p.stem: p for p in served.glob("*.mp4")} if served.is_dir() else {}
        names, named, closed = list(tokens), set[str](), set[str]()
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            with transaction(self.factory) as session:
                rows = session.execute(
                    select(Battle.left_token, Battle.right_token, Battle.status).where(
                        (Battle.left_token.in_(chunk)) | (Battle.right_token.in_(chunk))
                    )
                ).all()
            for left, right, status in rows:
                mine = {left, right} & tokens.keys()
                named |= mine
                if status in CLOSED:
                    closed |= mine
        return tokens, named, closed

    def _orphans(self) -> list[Path]:
        """Originals no row refers to, and the temporary leftovers of copies (served/ and spare/: a copy is encoded
        into its .part file, so a crash mid-encode leaves one)."""
        root = self.media.root
        with transaction(self.factory) as session:
            known = set(session.scalars(select(Video.file_path)))
        found = [p for p in (root / "videos").rglob("*") if p.is_file() and p.relative_to(root).as_posix() not in known]
        return [*found, *(root / "served").glob("*.part"), *(root / "spare").glob("*/*.part")]

    # -- checking ---------------------------------------------------------------------------------------------
    def check(self) -> IntegrityReport:
        """Everything a crash could leave inconsistent, listed (empty lists: all is well)."""
        now, cutoff = utcnow(), time.time() - self.orphan_grace_s
        with transaction(self.factory) as session:
            database = _database_check(session)
            dead, alive = self.registry.dead(session), self.registry.alive(session)
            votes_per_battle = dict(
                session.execute(select(Vote.battle_id, func.count(Vote.id)).group_by(Vote.battle_id)).all()
            )
            statuses = dict(session.execute(select(Battle.id, Battle.status)).all())
            problems: dict[str, list[str]] = {
                # (a voted battle the admin voided keeps its vote, off the board)
                "votes_of_unvoted_battles": [
                    b for b in votes_per_battle if statuses.get(b) not in (BattleStatus.voted, BattleStatus.voided)
                ],
                "voted_battles_without_one_vote": [
                    b for b, s in statuses.items() if s == BattleStatus.voted and votes_per_battle.get(b) != 1
                ],
                "stuck_battles": [
                    b
                    for b, s, worker, created in session.execute(
                        select(Battle.id, Battle.status, Battle.worker_id, Battle.created_at).where(
                            Battle.status.in_((BattleStatus.created, BattleStatus.generating))
                        )
                    )
                    if (s == BattleStatus.created and (worker in dead or aware(created) < now - self.created_grace))
                    or aware(created) < now - self.ttl
                ],
                "open_jobs_of_closed_battles": [
                    str(j)
                    for j, b in session.execute(
                        select(GenerationJob.id, GenerationJob.battle_id).where(
                            GenerationJob.status.in_((JobStatus.queued, JobStatus.running))
                        )
                    )
                    if statuses.get(b) != BattleStatus.generating
                ],
                "jobs_of_dead_processes": [  # (or of processes no longer registered)
                    str(j)
                    for j, w in session.execute(
                        select(GenerationJob.id, GenerationJob.worker_id).where(
                            GenerationJob.status == JobStatus.running
                        )
                    )
                    if w not in alive
                ],
                "shown_battles_without_videos": list(
                    session.scalars(
                        select(Battle.id).where(
                            Battle.status.in_((BattleStatus.shown, BattleStatus.voted)),
                            (Battle.left_video_id.is_(None)) | (Battle.right_video_id.is_(None)),
                        )
                    )
                ),
                "tallies": check_tallies(session),  # the board's counts against a recount from the votes
                "missing_video_files": [
                    rel for rel in session.scalars(select(Video.file_path)) if not (self.media.root / rel).is_file()
                ],
            }
        tokens, named, closed = self._served()
        problems["served_copies_of_closed_battles"] = [tokens[t].name for t in closed]
        unnamed = [p for t, p in tokens.items() if t not in named]  # (a pool battle's row follows its copies)
        problems["orphan_files"] = [
            str(p.relative_to(self.media.root)) for p in self._orphans() + unnamed if _older(p, cutoff)
        ]
        return IntegrityReport(database, problems)


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _database_check(session: Session) -> str:
    """SQLite's own integrity check; other databases check themselves (their answer here is "ok")."""
    if session.get_bind().dialect.name != "sqlite":
        return "ok"
    rows = [r[0] for r in session.execute(text("PRAGMA integrity_check"))]
    return "ok" if rows == ["ok"] else "; ".join(map(str, rows))
