"""Server-issued sessions: a random id signed with the server secret (itsdangerous), so a client cannot choose
or invent one. Any app process with the same secret verifies any session; nothing is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer

from arena.services.views import Refusal

SESSION_COOKIE = "arena_session"
SESSION_HEADER = "x-arena-session"
SESSION_ID_BYTES = 18
_MAX_TOKEN = 128
# Simulated voters' session ids start with this; `~` is outside token_urlsafe's alphabet, so no ordinary session
# id does, and a client cannot make one up: every id must carry this server's signature.
SIMULATED_PREFIX = "sim~"


def is_simulated(session_id: str) -> bool:
    """Whether a (verified) session id was issued to a simulated voter."""
    return session_id.startswith(SIMULATED_PREFIX)


@dataclass(frozen=True)
class Client:
    """Who is asking: the verified session id and the salted hash of the client's IP (None when unknown)."""

    session_id: str
    ip_hash: str | None = None

    @property
    def simulated(self) -> bool:
        """A simulated voter: the server issued this session to one (see :meth:`SessionSigner.issue_simulated`)."""
        return is_simulated(self.session_id)


class SessionSigner:
    def __init__(self, secret: str) -> None:
        self._signer = Signer(secret, salt="arena-session")

    def issue(self) -> tuple[str, str]:
        """A new session: (id, signed token the client keeps)."""
        session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
        return session_id, self._signer.sign(session_id).decode()

    def issue_simulated(self, label: str = "sim") -> tuple[str, str]:
        """A new simulated voter's session: (id, signed token). Only code holding the server secret (the arena's
        own calibration and demo crowd, or the admin API) can call this; votes of such sessions are stored as
        simulated and kept off human boards, exports and decisions."""
        tag = "".join(c for c in label.lower() if c.isalnum())[:12] or "sim"
        session_id = f"{SIMULATED_PREFIX}{tag}~{secrets.token_urlsafe(SESSION_ID_BYTES)}"
        return session_id, self.token(session_id)

    def token(self, session_id: str) -> str:
        return self._signer.sign(session_id).decode()

    def verify(self, token: str) -> str | None:
        """The session id of a token this server signed, else None."""
        if not token or len(token) > _MAX_TOKEN or not token.isascii():
            return None
        try:
            return self._signer.unsign(token).decode()
        except (BadSignature, UnicodeDecodeError):
            return None

    def require(self, token: str) -> str:
        """The session id of ``token``, or a 401 refusal: a session the client made up is never used."""
        session_id = self.verify(token)
        if session_id is None:
            raise Refusal(
                "invalid_session",
                "this session was not issued by this server (or its secret changed); drop it to get a new one",
                401,
            )
        return session_id


def hash_ip(ip: str | None, salt: str) -> str | None:
    """The client's IP, salted with the server secret: stored and rate-limited, never kept in the clear."""
    if not ip:
        return None
    return hmac.new(salt.encode(), ip.encode(), hashlib.sha256).hexdigest()
