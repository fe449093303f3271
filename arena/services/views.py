"""What the services hand to the API and the UI: plain frozen data, and the one refusal error."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NotRequired, overload

from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

from db.models import BattleMode  # re-exported: the UI names battle modes without importing db

__all__ = [
    "BattleJSON",
    "BattleMode",
    "BattleView",
    "PromptJSON",
    "Refusal",
    "Reveal",
    "RevealJSON",
    "SideReveal",
    "aware",
]


class Refusal(Exception):
    """A request the arena refuses, with a machine-readable code, an HTTP status and a reason for people."""

    def __init__(self, code: str, reason: str, status: int = 409, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.status = status
        self.retry_after = retry_after  # seconds, for 429 (rate limits) and 503


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes even for timezone-aware columns: treat them as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class PromptJSON(TypedDict):
    """A suite prompt as the pickers and ``GET /api/prompts`` list it."""

    id: int
    key: str
    text: str
    language: str
    category: str


class PlaygroundJSON(TypedDict):
    """A Playground video: its signed URL and provenance (named: never a pool clip)."""

    video_id: int
    url: str
    provenance: dict[str, Any]
    latency_s: float | None
    model_id: str


class SideJSON(TypedDict):
    video_url: str | None
    model: NotRequired[str | None]  # named battles only


class QueueJSON(TypedDict):
    position: int | None
    progress: float | None


class BattleJSON(TypedDict):
    """A battle as the API answers it (the response schema filters out any key not named here)."""

    id: str
    mode: str
    status: str
    prompt: str
    language: str
    category: str
    left: SideJSON
    right: SideJSON
    reason: NotRequired[str]
    queue: NotRequired[QueueJSON]  # while "generating"


class SideRevealJSON(TypedDict):
    model_id: str
    display_name: str
    organisation: str
    licence: str
    latency_s: float | None
    settings: dict[str, Any]
    adjustments: dict[str, Any]


class RevealJSON(TypedDict):
    battle_id: str
    status: str
    choice: str | None
    left: SideRevealJSON
    right: SideRevealJSON
    reason: str | None


@dataclass(frozen=True)
class BattleView:
    """A battle as the client may see it before the vote: no model identity in anonymous mode."""

    id: str
    mode: str
    status: str
    prompt: str
    prompt_id: int
    language: str
    category: str
    left_url: str | None
    right_url: str | None
    reason: str | None = None
    # Named mode only: the names are part of the page from the start.
    left_name: str | None = None
    right_name: str | None = None
    # While "generating": jobs ahead in the queue and the slower video's progress (0..1).
    queue_position: int | None = None
    progress: float | None = None
    # A pool battle's start: the ``time.monotonic()`` before which its answer must not leave (copy_times.py).
    hand_over_at: float | None = None

    def public(self) -> BattleJSON:
        data: BattleJSON = {
            "id": self.id,
            "mode": self.mode,
            "status": self.status,
            "prompt": self.prompt,
            "language": self.language,
            "category": self.category,
            "left": {"video_url": self.left_url},
            "right": {"video_url": self.right_url},
        }
        if self.reason:
            data["reason"] = self.reason
        if self.status == "generating":
            data["queue"] = {"position": self.queue_position, "progress": self.progress}
        if self.mode == "named":
            data["left"]["model"] = self.left_name
            data["right"]["model"] = self.right_name
        return data


@dataclass(frozen=True)
class SideReveal:
    model_id: str
    display_name: str
    organisation: str
    licence: str
    latency_s: float | None
    settings: dict[str, Any] = field(default_factory=dict)
    adjustments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reveal:
    battle_id: str
    status: str
    choice: str | None
    left: SideReveal
    right: SideReveal
    reason: str | None = None

    def public(self) -> RevealJSON:
        """As JSON, like ``asdict`` without its deep copies (this is every vote's answer)."""
        return {
            "battle_id": self.battle_id,
            "status": self.status,
            "choice": self.choice,
            "left": _side(self.left),
            "right": _side(self.right),
            "reason": self.reason,
        }


def _side(side: SideReveal) -> SideRevealJSON:
    return {
        "model_id": side.model_id,
        "display_name": side.display_name,
        "organisation": side.organisation,
        "licence": side.licence,
        "latency_s": side.latency_s,
        "settings": dict(side.settings),
        "adjustments": dict(side.adjustments),
    }
