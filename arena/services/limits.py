"""Rate limits per session and per IP hash, for the JSON API and the Gradio events alike (the ``limits`` library,
which slowapi is built on: one limiter for both, keyed by action and client rather than by route).

Storage is a ``limits`` URI: ``memory://`` counts within one app process; point ``ARENA_RATE_LIMIT_STORAGE`` at
``redis://host:6379`` (or memcached) so several processes share the counts.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from arena.services.sessions import Client
from arena.services.views import Refusal
from arena.settings import Settings

Action = Literal["session", "battle", "typed", "vote", "playground"]
_WORDS = {
    "session": "new sessions",
    "battle": "new battles",
    "typed": "typed prompts",
    "vote": "votes",
    "playground": "Playground generations",
}


@dataclass(frozen=True)
class Rule:
    per_session: tuple[RateLimitItem, ...]
    per_ip: tuple[RateLimitItem, ...]


def _parse(setting: str, value: str) -> tuple[RateLimitItem, ...]:
    if not value.strip():
        return ()
    try:
        return tuple(parse_many(value))
    except ValueError as exc:
        raise ValueError(f"ARENA_{setting.upper()}: not a rate limit like '20/minute;300/hour': {value!r}") from exc


def rules_from(settings: Settings) -> dict[Action, Rule]:
    return {
        "session": Rule((), _parse("limit_sessions_ip", settings.limit_sessions_ip)),
        "battle": Rule(
            _parse("limit_battles", settings.limit_battles), _parse("limit_battles_ip", settings.limit_battles_ip)
        ),
        "typed": Rule(_parse("limit_typed", settings.limit_typed), _parse("limit_typed_ip", settings.limit_typed_ip)),
        "vote": Rule(_parse("limit_votes", settings.limit_votes), _parse("limit_votes_ip", settings.limit_votes_ip)),
        "playground": Rule(
            _parse("limit_playground", settings.limit_playground),
            _parse("limit_playground_ip", settings.limit_playground_ip),
        ),
    }


@dataclass(frozen=True)
class LimitHit:
    """One refused request (the admin's view): when, what, and the session or IP hash it was counted against."""

    at: float
    action: str
    scope: str  # "session" | "ip"
    key: str


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits
        self.rules = rules_from(settings)  # parsed even when off, so a typo fails at start
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
        # Counting may wait on the network (redis, memcached): then keep it off the event loop.
        self.may_block = self.enabled and not settings.rate_limit_storage.startswith("memory://")
        self._hits: deque[LimitHit] = deque(maxlen=1000)  # the latest refusals of this process
        self._hit_lock = threading.Lock()

    def hits(self) -> list[LimitHit]:
        """The latest refusals of this process (up to 1000), newest first."""
        with self._hit_lock:
            return list(reversed(self._hits))

    def hit(self, action: Action, client: Client) -> None:
        """Count one ``action`` of ``client``, or refuse it (429 with the seconds until it is allowed again)."""
        if not self.enabled:
            return
        rule = self.rules[action]
        checks = [(item, "session", client.session_id) for item in rule.per_session]
        if client.ip_hash:
            checks += [(item, "ip", client.ip_hash) for item in rule.per_ip]
        for item, scope, key in checks:
            if not self._limiter.hit(item, action, scope, key):
                reset = self._limiter.get_window_stats(item, action, scope, key).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                with self._hit_lock:
                    self._hits.append(LimitHit(time.time(), action, scope, key))
                who = "this session" if scope == "session" else "this network address"
                raise Refusal(
                    "rate_limited",
                    f"too many {_WORDS[action]} from {who} (at most {item.amount} per {_per(item)}); "
                    f"try again in {wait} s",
                    429,
                    retry_after=wait,
                )


def _per(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"
