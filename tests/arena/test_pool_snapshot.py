"""Battle starts read the pool from a per-process snapshot (arena.services.pool_snapshot): it must never serve a
pool that changed under it, nor a clip already revealed to the client while its model has one that was not."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import select, update

from arena.services.container import Arena
from arena.services.pool_snapshot import PoolSnapshots
from db.models import Battle, Model, Prompt, Video
from db.session import transaction

MODELS = ["alpha-7b", "beta-v2", "gamma-x"]


def sides(arena: Arena, battle_id: str) -> tuple[str, str, int | None, int | None]:
    with transaction(arena.factory) as session:
        b = session.get_one(Battle, battle_id)
        return b.left_model_id, b.right_model_id, b.left_video_id, b.right_video_id


def test_a_model_disabled_by_another_process_is_not_drawn_by_the_next_start(arena: Arena) -> None:
    arena.battles.start("s0")  # the snapshot is taken
    with transaction(arena.factory) as session:  # as the admin of another app process would
        session.execute(update(Model).where(Model.id == "gamma-x").values(enabled=False))
    drawn = Counter(m for n in range(30) for m in sides(arena, arena.battles.start(f"s{n}").id)[:2])
    assert drawn["gamma-x"] == 0 and drawn["alpha-7b"] == drawn["beta-v2"] == 30
    with transaction(arena.factory) as session:
        session.execute(update(Model).where(Model.id == "gamma-x").values(enabled=True))
    drawn = Counter(m for n in range(30) for m in sides(arena, arena.battles.start(f"t{n}").id)[:2])
    assert drawn["gamma-x"] > 0  # enabled again: back in the pool at once


def test_clips_added_after_a_start_are_served_by_the_next_one(arena_factory: Callable[..., Arena]) -> None:
    arena = arena_factory()
    arena.pool_videos.fill(models=MODELS, limit_prompts=1)
    with transaction(arena.factory) as session:
        first, later = session.scalars(select(Prompt.id).order_by(Prompt.id).limit(2)).all()
    arena.battles.start("s0")  # the snapshot is taken
    with transaction(arena.factory) as session:
        assert {c.prompt_id for c in arena.battles.pool_candidates(session)} == {first}
    arena.pool_videos.fill(models=MODELS, limit_prompts=2)  # (another process's prefill would be seen the same way)
    with transaction(arena.factory) as session:
        assert {c.prompt_id for c in arena.battles.pool_candidates(session)} == {first, later}
    view = arena.battles.start("s1", prompt_id=later)
    assert view.status == "shown", "a pool clip of the new prompt, not a live generation"
    _, _, left_video, right_video = sides(arena, view.id)
    with transaction(arena.factory) as session:
        prompts = set(session.scalars(select(Video.prompt_id).where(Video.id.in_([left_video, right_video]))))
    assert prompts == {later}


def test_a_clip_revealed_to_the_client_is_not_served_while_its_model_has_another(
    arena_factory: Callable[..., Arena],
) -> None:
    """Two clips per (model, prompt), one prompt pinned by each client: after a battle is voted (revealed), the
    next one serves each model's other clip. The snapshot is warm throughout, so a revealed set kept with it (or
    not read per start) would serve a revealed clip again."""
    arena = arena_factory(default_seed_count=2)
    arena.pool_videos.fill(models=MODELS[:2], limit_prompts=1)
    with transaction(arena.factory) as session:
        prompt = session.scalars(select(Prompt.id).order_by(Prompt.id).limit(1)).one()
    for client in ("c1", "c2", "c3", "c4"):  # a pick blind to reveals passes by chance 1 in 2**8
        seen: set[int | None] = set()
        for _ in range(2):
            view = arena.battles.start(client, prompt_id=prompt, ip_hash=f"ip-{client}")
            _, _, left_video, right_video = sides(arena, view.id)
            assert not {left_video, right_video} & seen, "a revealed clip came back while another was unseen"
            arena.votes.vote(view.id, client, "tie")
            seen |= {left_video, right_video}
        assert len(seen) == 4  # both clips of both models, each once


def test_a_category_changed_in_place_by_another_process_is_seen_by_the_next_read(arena: Arena) -> None:
    """Two processes' snapshots on one database: a suite reload in one re-categorises a prompt (no clip, no model
    changes); the other's warm snapshot sees it at its next read."""
    here, there = PoolSnapshots(arena.battles.pool.arena_key), PoolSnapshots(arena.battles.pool.arena_key)
    with transaction(arena.factory) as session:
        before = {c.prompt_id: c.category for c in here.get(session).candidates}
        there.get(session)
        prompt = min(before)
        session.execute(update(Prompt).where(Prompt.id == prompt).values(category="re-read"))
    with transaction(arena.factory) as session:
        assert {c.category for c in there.get(session).candidates if c.prompt_id == prompt} == {"re-read"}
        assert {c.category for c in here.get(session).candidates if c.prompt_id == prompt} == {"re-read"}
        assert {c.prompt_id: c.category for c in here.get(session).candidates if c.prompt_id != prompt} == {
            p: c for p, c in before.items() if p != prompt
        }


def test_a_video_replaced_under_its_id_by_another_process_is_seen_by_the_next_read(arena: Arena) -> None:
    """A clip deleted and inserted again under the same id (same count, same largest id) with another file: the
    other process's warm snapshot serves the new file at its next read, for the oldest clip and the newest alike."""
    here, there = PoolSnapshots(arena.battles.pool.arena_key), PoolSnapshots(arena.battles.pool.arena_key)
    with transaction(arena.factory) as session:
        ids = session.scalars(select(Video.id).order_by(Video.id)).all()
    for n, video_id in enumerate((ids[0], ids[-1])):
        with transaction(arena.factory) as session:
            old = session.get_one(Video, video_id)
            here.get(session).clip(old.model_id, old.prompt_id, video_id)  # warm, with the old row
            there.get(session)
            columns = {c.key: getattr(old, c.key) for c in Video.__table__.columns if c.key != "created_at"}
            session.delete(old)
            session.flush()
            session.add(Video(**{**columns, "file_path": f"replaced-{n}.mp4", "content_hash": f"{n}" * 64}))
        with transaction(arena.factory) as session:
            new = session.get_one(Video, video_id)
            for snapshots in (there, here):
                clip = snapshots.get(session).clip(new.model_id, new.prompt_id, video_id)
                assert (clip.file_path, clip.content_hash) == (f"replaced-{n}.mp4", f"{n}" * 64)
