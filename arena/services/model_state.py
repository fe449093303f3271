"""What the running arena knows about each model beyond the models file, shared by every app process:

* the admin's override of ``enabled`` (kept across restarts; the models file is the default);
* load failures: a model that cannot load is marked unavailable with its reason and not tried again before its
  back-off has passed (30 s, doubling, at most an hour by default), or before the admin asks for a retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from adapters.config import ModelCatalog
from adapters.errors import AdapterUnavailableError
from arena.services.views import aware
from db.models import Model, ModelState, utcnow
from db.session import transaction


@dataclass(frozen=True)
class Availability:
    model_id: str
    enabled: bool
    admin_enabled: bool | None  # None: as the models file says
    unavailable_reason: str | None
    failures: int
    retry_at: datetime | None

    @property
    def backing_off(self) -> bool:
        return self.retry_at is not None and self.retry_at > utcnow()


class ModelStates:
    def __init__(self, factory: sessionmaker[Session], *, backoff_s: float = 30.0, backoff_max_s: float = 3600.0):
        self.factory = factory
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s

    def apply_overrides(self, session: Session) -> None:
        """After the models file was mirrored: every model has a state row, and the admin's choices win."""
        states = {s.model_id: s for s in session.scalars(select(ModelState))}
        for model in session.scalars(select(Model)):
            state = states.get(model.id)
            if state is None:
                session.add(ModelState(model_id=model.id, failures=0))
            elif state.admin_enabled is not None:
                model.enabled = state.admin_enabled
        session.flush()

    def _row(self, session: Session, model_id: str) -> ModelState:
        state = session.get(ModelState, model_id, with_for_update=True)
        if state is None:
            state = ModelState(model_id=model_id, failures=0)
            session.add(state)
            session.flush()
        return state

    # -- load failures ------------------------------------------------------------------------------------
    def check(self, model_id: str) -> None:
        """Raise AdapterUnavailableError while the model is backing off (so it is not loaded again meanwhile)."""
        with transaction(self.factory) as session:
            state = session.get(ModelState, model_id)
            retry_at = aware(state.retry_at) if state is not None else None
            if state is None or retry_at is None or retry_at <= utcnow():
                return
            wait = (retry_at - utcnow()).total_seconds()
            reason = state.unavailable_reason or "unavailable"
        raise AdapterUnavailableError(model_id, f"{reason} (not tried again for {wait:.0f} s)")

    def failed(self, model_id: str, reason: str) -> None:
        """A load (or availability) failure: unavailable with this reason, next try after the back-off."""
        for _ in range(3):  # a concurrent first insert of the row: read it again
            try:
                with transaction(self.factory) as session:
                    state = self._row(session, model_id)
                    state.failures = (state.failures or 0) + 1
                    delay = min(self.backoff_max_s, self.backoff_s * 2 ** (state.failures - 1))
                    state.unavailable_reason = reason[:2000]
                    state.retry_at = utcnow() + timedelta(seconds=delay)
                return
            except IntegrityError:
                continue

    def succeeded(self, model_id: str) -> None:
        with transaction(self.factory) as session:
            state = session.get(ModelState, model_id)
            if state is not None and (state.failures or state.unavailable_reason or state.retry_at):
                state.failures, state.unavailable_reason, state.retry_at = 0, None, None

    def retry_now(self, model_id: str) -> None:
        """The admin's retry: the next job tries to load the model again (the reason stays until it works)."""
        with transaction(self.factory) as session:
            self._row(session, model_id).retry_at = None

    # -- the admin's switch -------------------------------------------------------------------------------
    def set_enabled(self, model_id: str, enabled: bool | None) -> None:
        """Enable or disable a model now and across restarts; None: back to what the models file says."""
        with transaction(self.factory) as session:
            model = session.get(Model, model_id)
            if model is None:
                raise KeyError(model_id)
            self._row(session, model_id).admin_enabled = enabled
            if enabled is None:
                model.enabled = bool(model.spec.get("enabled", True))
            else:
                model.enabled = enabled

    # -- reading ------------------------------------------------------------------------------------------
    def all(self) -> list[Availability]:
        with transaction(self.factory) as session:
            states = {s.model_id: s for s in session.scalars(select(ModelState))}
            out = []
            for model in session.scalars(select(Model).order_by(Model.id)):
                s = states.get(model.id)
                out.append(
                    Availability(
                        model.id,
                        model.enabled,
                        s.admin_enabled if s else None,
                        s.unavailable_reason if s else None,
                        s.failures if s else 0,
                        aware(s.retry_at) if s else None,
                    )
                )
            return out

    @staticmethod
    def backing_off(session: Session) -> set[str]:
        """Models not to draw now (their back-off has not passed)."""
        now = utcnow()
        rows = session.execute(select(ModelState.model_id, ModelState.retry_at).where(ModelState.retry_at.is_not(None)))
        return {m for m, at in rows if at is not None and aware(at) > now}


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
