"""The admin's secret: from ARENA_ADMIN_PASSWORD or the file ARENA_ADMIN_PASSWORD_FILE names. There is no default:
without one the admin tab and every admin route are off (refused). Compared in constant time; a client that keeps
guessing is refused for a while (10 wrong tries a minute per address)."""

from __future__ import annotations

import hmac
from base64 import b64decode

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from arena.services.views import Refusal
from arena.settings import Settings

GUESSES = parse("10/minute")


class AdminAuth:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._guesses = MovingWindowRateLimiter(MemoryStorage())

    def secret(self) -> str | None:
        """The secret now (the file is read each time, so it can be rotated without a restart); None: off."""
        if self.settings.admin_password is not None:
            return self.settings.admin_password.get_secret_value().strip() or None
        path = self.settings.admin_password_file
        if path is not None and path.is_file():
            return path.read_text(encoding="utf-8").strip() or None
        return None

    @property
    def enabled(self) -> bool:
        return self.secret() is not None

    def password_ok(self, password: str | None) -> bool:
        secret = self.secret()
        return secret is not None and password is not None and hmac.compare_digest(password.encode(), secret.encode())

    def check(self, authorization: str | None, client: str | None = None) -> None:
        """Let an admin request through (``Authorization: Bearer <secret>``, or Basic with any user name), or refuse
        it: 403 when the admin is off, 401 for a missing or wrong secret, 429 after too many wrong ones."""
        if self.secret() is None:
            raise Refusal("admin_off", "the admin is off on this arena (no admin password is set)", 403)
        key = client or "-"
        if not self._guesses.test(GUESSES, "admin", key):
            raise Refusal("rate_limited", "too many wrong admin passwords; try again in a minute", 429, retry_after=60)
        if not self.password_ok(_password(authorization)):
            self._guesses.hit(GUESSES, "admin", key)
            raise Refusal("unauthorized", "the admin password is missing or wrong", 401)


def _password(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            return None
    return None
