"""Keeps copies of the pool's clips prepared ahead, so a battle takes a ready re-encode instead of making one on
its request (see arena.services.served for why every served copy is a fresh re-encode)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from arena.services.media import MediaStore
from arena.services.pool import battle_eligible
from arena.services.suites import USER_SUITE
from db.models import Model, Prompt, Video
from db.session import transaction


class SpareFiller:
    def __init__(self, factory: sessionmaker[Session], media: MediaStore, key: str, per_video: int) -> None:
        self.factory = factory
        self.media = media
        self.key = key  # the arena's generation settings: only videos of these appear in battles
        self.per_video = per_video

    def pool_videos(self) -> list[tuple[int, str]]:
        """(video id, stored file) of every clip an anonymous pool battle can show."""
        query = (
            select(Video.id, Video.file_path)
            .join(Model, Model.id == Video.model_id)
            .join(Prompt, Prompt.id == Video.prompt_id)
            .where(Model.enabled.is_(True), Prompt.suite != USER_SUITE, *battle_eligible(self.key))
            .order_by(Video.id)
        )
        with transaction(self.factory) as session:
            return [(int(i), str(f)) for i, f in session.execute(query)]

    def fill(self) -> int:
        """Bring every pool clip up to ``per_video`` spare copies; returns how many were made."""
        if self.per_video <= 0:
            return 0
        return self.media.fill_spares(self.pool_videos(), self.per_video)
