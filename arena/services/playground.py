"""The Playground: one named video of a chosen model for a typed prompt, and the signed URLs it is served at."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from adapters.base import MAX_SEED
from adapters.errors import AdapterError
from arena.services.clips import ClipSigner
from arena.services.generation import PLAYGROUND_RUN, GenerationService
from arena.services.inputs import clean_text, is_token
from arena.services.live import public_failure
from arena.services.media import MediaStore
from arena.services.suites import refuse_pool_prompt, user_prompt
from arena.services.views import PlaygroundJSON, Refusal
from db.models import Model, Video
from db.session import transaction

log = logging.getLogger(__name__)


class Playground:
    def __init__(
        self,
        factory: sessionmaker[Session],
        generation: GenerationService,
        media: MediaStore,
        clips: ClipSigner,
        *,
        enabled: bool,
        live_models: Callable[[Session], Sequence[str]],
        moderate: Callable[[str], None],
    ) -> None:
        self.factory = factory
        self.generation = generation
        self.media = media
        self.clips = clips
        self.enabled = enabled
        self.live_models = live_models
        self.moderate = moderate

    def generate(self, model_id: str, prompt: str, seed: int = 0) -> PlaygroundJSON:
        """Generate (or reuse) one named video; returns its signed URL and provenance. Playground videos are
        kept apart (their own run id): a battle never serves one."""
        if not self.enabled:
            raise Refusal("live_disabled", "typed prompts are turned off on this arena", 403)
        prompt = clean_text(prompt)
        self.moderate(prompt)
        with transaction(self.factory) as session:
            model = session.get(Model, model_id) if is_token(model_id.replace(".", "_")) else None
            if model is None or not model.enabled:
                raise Refusal("invalid", "unknown or disabled model", 400)
            if model_id not in self.live_models(session):  # a clips-only model's clip is a pool clip
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
            return PlaygroundJSON(
                video_id=video.id,
                url=self.clips.url(video.id),
                provenance=video.provenance,
                latency_s=video.latency_s,
                model_id=model_id,
            )

    def clip_path(self, name: str) -> str | None:
        """The file of a signed Playground clip name (``/media/clip/<name>``), else None."""
        video_id = self.clips.verify(name)
        if video_id is None:
            return None
        with transaction(self.factory) as session:
            video = session.get(Video, video_id)
            return str(self.media.path(video.file_path)) if video else None
