"""After a crash: battles a dead process left "created" or "generating" are voided with their served copies, its
running jobs failed, orphan files deleted; live processes' work is left alone; the integrity check sees problems."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update

from arena.services.container import Arena
from arena.services.jobs import JobQueue
from arena.services.live import void_battle
from arena.services.recovery import CREATED, INTERRUPTED_BATTLE
from arena.services.views import BattleMode, Refusal
from db.models import Battle, BattleStatus, GenerationJob, JobStatus, Vote, VoteChoice, Worker, utcnow
from db.session import transaction
from tests.arena.conftest import make_settings


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def status(arena: Arena, battle_id: str) -> BattleStatus:
    with transaction(arena.factory) as session:
        return session.get_one(Battle, battle_id).status


def served(arena: Arena, battle_id: str) -> list[bool]:
    with transaction(arena.factory) as session:
        battle = session.get_one(Battle, battle_id)
        return [arena.media.served_path(t).exists() for t in (battle.left_token, battle.right_token)]


def crashed_process(arena: Arena, *, host: str | None = None, beat_age_s: float = 0.0) -> str:
    """A worker row like the one a process killed with -9 leaves behind."""
    wid = f"gone:{dead_pid()}"
    with transaction(arena.factory) as session:
        session.add(
            Worker(
                id=wid,
                host=host or arena.runner.registry.host,
                pid=int(wid.split(":")[1]),
                heartbeat_at=utcnow() - timedelta(seconds=beat_age_s),
            )
        )
    return wid


def quiet_arena(arena_factory: Callable[..., Arena]) -> Arena:
    """An arena whose pool is filled and whose workers run no jobs (so queued jobs stay queued)."""
    arena = arena_factory(generation_workers=0)
    arena.pool_videos.fill(models=["alpha-7b", "beta-v2", "gamma-x"])
    return arena


def test_a_restart_voids_what_a_killed_process_left_and_deletes_its_served_copies(
    arena_factory: Callable[..., Arena],
) -> None:
    arena = quiet_arena(arena_factory)
    gone = crashed_process(arena)
    # A pool battle whose served copies were written when the process died (still "created").
    half = arena.battles.start("s1")
    with transaction(arena.factory) as session:
        session.execute(update(Battle).where(Battle.id == half.id).values(status=BattleStatus.created, worker_id=gone))
    assert served(arena, half.id) == [True, True]
    # A live battle: one job was running in the dead process, the other still waits.
    live = arena.battles.start("s2", prompt_text="a cat", mode=BattleMode.named, models=["alpha-7b", "beta-v2"])
    assert JobQueue(arena.factory, gone, lambda _m: 2).claim() is not None
    # A live battle of a process that is alive: left alone.
    alive = arena.battles.start("s3", prompt_text="a dog", mode=BattleMode.named, models=["alpha-7b", "gamma-x"])

    report = arena.recovery.sweep()

    assert set(report.voided) == {half.id, live.id} and report.failed_jobs == 1 and report.dead_processes == 1
    assert status(arena, half.id) == status(arena, live.id) == BattleStatus.voided
    assert served(arena, half.id) == [False, False]
    assert sorted(j.status for j in jobs_of(arena, live.id)) == [JobStatus.cancelled, JobStatus.failed]
    assert status(arena, alive.id) == BattleStatus.generating
    with transaction(arena.factory) as session:
        assert session.get(Worker, gone) is None
        reason = session.get_one(Battle, live.id).status_reason
    assert reason and "restarted" in reason
    assert arena.recovery.check().ok, arena.recovery.check()


def test_a_silent_process_on_another_host_is_taken_as_gone(arena: Arena) -> None:
    gone = crashed_process(arena, host="another-host", beat_age_s=3600)
    view = arena.battles.start("s1")
    with transaction(arena.factory) as session:
        session.execute(update(Battle).where(Battle.id == view.id).values(status=BattleStatus.created, worker_id=gone))
    recent = crashed_process(arena, host="another-host", beat_age_s=1)  # still beating: not gone
    assert arena.recovery.sweep().voided == (view.id,)
    with transaction(arena.factory) as session:
        assert session.get(Worker, recent) is not None


def test_orphan_and_temporary_files_are_deleted_once_old(arena: Arena) -> None:
    root = arena.media.root
    old_orphan, young_orphan = root / "videos" / "zz" / "old.mp4", root / "videos" / "zz" / "young.mp4"
    stale_part = root / "served" / "x.mp4.1234.part"
    stale_spare, young_spare = root / "spare" / "7" / "old.part", root / "spare" / "7" / "young.part"
    for path in (old_orphan, young_orphan, stale_part, stale_spare, young_spare):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not referenced by any row")
    long_ago = time.time() - 3600
    for path in (old_orphan, stale_part, stale_spare):
        os.utime(path, (long_ago, long_ago))
    assert sorted(arena.recovery.check().problems["orphan_files"]) == [
        "served/x.mp4.1234.part",
        "spare/7/old.part",
        "videos/zz/old.mp4",
    ]
    arena.recovery.sweep()
    assert not old_orphan.exists() and not stale_part.exists() and not stale_spare.exists()
    assert young_orphan.exists() and young_spare.exists()
    assert arena.pool_videos.count() > 0 and not arena.recovery.check().problems["missing_video_files"]


def test_copies_of_a_start_that_died_before_writing_its_battle_are_deleted_once_old(
    arena: Arena, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pool battle's row is written once its served copies exist: a start that dies in between (here: its write
    fails) leaves copies no battle names, never served, reported and deleted like any orphan file."""
    served_dir = arena.media.root / "served"
    kept = arena.battles.start("s1")  # a battle that was written: its copies stay
    before = set(served_dir.glob("*.mp4"))

    def dies(*_args: object) -> None:
        raise RuntimeError("killed between preparing the copies and writing the battle")

    monkeypatch.setattr(arena.battles, "_withdraw", dies)
    with pytest.raises(RuntimeError):
        arena.battles.start("s2")
    monkeypatch.undo()
    left = set(served_dir.glob("*.mp4")) - before
    assert len(left) == 2 and arena.battles.video_for_token(next(iter(left)).stem) is None
    assert not arena.recovery.check().problems["orphan_files"], "young: a start may still be writing its row"
    long_ago = time.time() - 3600
    for path in left | before:
        os.utime(path, (long_ago, long_ago))
    assert sorted(arena.recovery.check().problems["orphan_files"]) == sorted(f"served/{p.name}" for p in left)
    arena.recovery.sweep()
    assert not any(p.exists() for p in left) and all(served(arena, kept.id))


def test_a_live_battle_waiting_longer_than_the_ttl_is_voided(arena_factory: Callable[..., Arena]) -> None:
    arena = arena_factory(generation_workers=0)
    view = arena.battles.start("s1", prompt_text="a slow one", mode=BattleMode.named, models=["alpha-7b", "beta-v2"])
    with transaction(arena.factory) as session:
        session.execute(
            update(Battle).where(Battle.id == view.id).values(created_at=utcnow() - timedelta(seconds=7200))
        )
    assert arena.recovery.check().problems["stuck_battles"] == [view.id]
    assert arena.recovery.sweep().voided == (view.id,)
    assert {j.status for j in jobs_of(arena, view.id)} == {JobStatus.cancelled}


def test_the_integrity_check_reports_inconsistent_rows(arena: Arena) -> None:
    shown = arena.battles.start("s1")
    voted = arena.battles.start("s1")
    arena.votes.vote(voted.id, "s1", "left")
    assert arena.recovery.check().ok
    with transaction(arena.factory) as session:
        session.add(Vote(battle_id=shown.id, choice=VoteChoice.tie, session_id="s1"))  # a vote on a shown battle
        session.execute(update(Battle).where(Battle.id == voted.id).values(status=BattleStatus.shown))
    report = arena.recovery.check()
    assert not report.ok and report.database == "ok"
    assert sorted(report.problems["votes_of_unvoted_battles"]) == sorted([shown.id, voted.id])


def jobs_of(arena: Arena, battle_id: str) -> list[GenerationJob]:
    with transaction(arena.factory) as session:
        return list(session.scalars(select(GenerationJob).where(GenerationJob.battle_id == battle_id)))


def test_a_void_racing_a_vote_never_overwrites_it(arena_factory: Callable[..., Arena]) -> None:
    """A sweep or an admin voiding a battle while its vote commits (two processes on Postgres, two threads here):
    either the vote is stored and the battle stays voted, or the battle is void and no vote is stored; the board's
    counts agree with the votes either way. (A void that read the status, then wrote "voided", overwrote the vote.)"""
    arena = quiet_arena(arena_factory)
    view = arena.battles.start("racer")
    me, fired, votes = threading.current_thread(), [], []

    def vote_meanwhile() -> None:
        try:
            votes.append(arena.votes.vote(view.id, "racer", "left", ip="10.0.0.9"))
        except Refusal as refusal:
            votes.append(refusal)

    def after_a_read_of_the_battle(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if not fired and threading.current_thread() is me and statement.lstrip().upper().startswith("SELECT"):
            fired.append(statement)  # the void has read the battle and not written yet: the vote commits now
            voter = threading.Thread(target=vote_meanwhile)
            voter.start()
            voter.join(60)

    event.listen(arena.engine, "after_cursor_execute", after_a_read_of_the_battle)
    try:
        voided = void_battle(arena.factory, arena.media, view.id, "Voided while its vote came in.")
    finally:
        event.remove(arena.engine, "after_cursor_execute", after_a_read_of_the_battle)
    if not fired:  # the void was one conditional write: the vote comes after it
        vote_meanwhile()
    with transaction(arena.factory) as session:
        stored = session.scalar(select(func.count(Vote.id)).where(Vote.battle_id == view.id))
    if voided:
        assert status(arena, view.id) == BattleStatus.voided and stored == 0 and isinstance(votes[0], Refusal)
    else:
        assert status(arena, view.id) == BattleStatus.voted and stored == 1 and not isinstance(votes[0], Refusal)
    assert arena.recovery.check().problems["tallies"] == []


def test_the_sweep_voids_only_battles_still_created(arena: Arena) -> None:
    """The sweep saw a battle "created" for too long; by the time it voids it, the battle is shown: left alone."""
    view = arena.battles.start("slow-start")
    assert not void_battle(arena.factory, arena.media, view.id, INTERRUPTED_BATTLE, CREATED)
    assert status(arena, view.id) == BattleStatus.shown and all(served(arena, view.id))


def test_a_job_of_a_process_no_longer_registered_is_failed(arena_factory: Callable[..., Arena]) -> None:
    """A process taken as gone is forgotten; killed before it registers again, its running jobs name no row. They
    are failed all the same (else each would hold its model's slot, and that model's battles wait for good)."""
    arena = quiet_arena(arena_factory)
    live = arena.battles.start("s1", prompt_text="a cat", mode=BattleMode.named, models=["alpha-7b", "beta-v2"])
    assert JobQueue(arena.factory, "forgotten:1:abcd", lambda _m: 2).claim() is not None  # no row in workers
    assert arena.recovery.check().problems["jobs_of_dead_processes"]
    report = arena.recovery.sweep()
    assert report.failed_jobs == 1 and live.id in report.voided
    assert arena.recovery.check().ok, arena.recovery.check()


def test_a_late_heartbeat_of_a_living_process_on_this_host_is_no_death(arena: Arena) -> None:
    """A process on this host an hour late with its heartbeat (starved of CPU, or stopped) whose pid is alive keeps
    its battles; once its pid is gone it is taken as gone at once; so is a row whose pid a newer process now has."""
    registry = arena.runner.registry
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    late, reused = f"late:{child.pid}", f"reused:{child.pid}"
    hour_ago = utcnow() - timedelta(hours=1)
    with transaction(arena.factory) as session:
        for wid, started in ((late, utcnow()), (reused, hour_ago)):  # (the child began before "late" registered)
            session.add(Worker(id=wid, host=registry.host, pid=child.pid, started_at=started, heartbeat_at=hour_ago))
    view = arena.battles.start("s1")
    with transaction(arena.factory) as session:
        session.execute(update(Battle).where(Battle.id == view.id).values(status=BattleStatus.created, worker_id=late))
    try:
        with transaction(arena.factory) as session:
            assert registry.dead(session) == {reused}
        assert arena.recovery.sweep().voided == () and status(arena, view.id) == BattleStatus.created
    finally:
        child.kill()
        child.wait()
    with transaction(arena.factory) as session:
        assert registry.dead(session) == {late}
    assert arena.recovery.sweep().voided == (view.id,)


def test_a_stale_limit_under_three_heartbeats_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 3 heartbeats"):
        make_settings(tmp_path, heartbeat_s=5.0, process_stale_s=10.0)
    assert make_settings(tmp_path, heartbeat_s=5.0, process_stale_s=15.0).process_stale_s == 15.0
