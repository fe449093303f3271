"""Keeps copies of the pool's clips prepared ahead, so a battle takes a ready re-encode instead of making one on
its request (see arena.services.served for why every served copy is a fresh re-encode)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from arena.services.media import MediaStore
from arena.services.pool_snapshot import PoolSnapshots
from db.session import transaction


class SpareFiller:
    def __init__(self, factory: sessionmaker[Session], media: MediaStore, pool: PoolSnapshots) -> None:
        self.factory = factory
        self.media = media
        self.pool = pool  # the battles' own snapshot: the clips an anonymous pool battle can show

    @property
    def per_video(self) -> int:
        """Copies kept of each clip (ARENA_SERVE_SPARES): the media store's own number."""
        return self.media.spares.per_video

    def pool_videos(self) -> list[tuple[int, str]]:
        """(video id, stored file) of every clip an anonymous pool battle can show, in id order."""
        with transaction(self.factory) as session:
            snapshot = self.pool.get(session)
        return sorted((c.id, c.file_path) for clips in snapshot.clips.values() for c in clips)

    def fill(self) -> int:
        """Bring every pool clip up to ``per_video`` spare copies; returns how many were made."""
        if self.per_video <= 0:
            return 0
        return self.media.fill_spares(self.pool_videos(), self.per_video)

    def refill(self, timeout: float) -> int:
        """Replace the copies this process's battles used, as they use them (waiting up to ``timeout`` seconds for
        one: with no spares kept none ever comes, so it waits the whole ``timeout``); returns how many were made.
        :meth:`fill` still finds new clips and other processes' leftovers."""
        return self.media.refill_used(timeout)
