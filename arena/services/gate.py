"""Who is asking, and may they: the one door the JSON API and the Gradio events both go through."""

from __future__ import annotations

from arena.services.limits import Action, RateLimiter
from arena.services.sessions import Client, SessionSigner, hash_ip


class Gate:
    def __init__(self, signer: SessionSigner, limiter: RateLimiter, ip_salt: str) -> None:
        self.signer = signer
        self.limiter = limiter
        self.ip_salt = ip_salt

    def identify(
        self, token: str | None, ip: str | None, known_session: str | None = None
    ) -> tuple[Client, str | None]:
        """(client, new signed token or None). A token must be one this server signed (else a 401 refusal);
        ``known_session`` is an id the server made earlier (a Gradio page's state); otherwise a new session is
        issued, at most ``ARENA_LIMIT_SESSIONS_IP`` per IP hash."""
        ip_hash = hash_ip(ip, self.ip_salt)
        if token:
            return Client(self.signer.require(token), ip_hash), None
        if known_session:
            return Client(known_session, ip_hash), None
        session_id, new_token = self.signer.issue()
        client = Client(session_id, ip_hash)
        self.limiter.hit("session", client)
        return client, new_token

    def allow(self, action: Action, client: Client) -> None:
        """Count the action, or raise a 429 refusal with Retry-After. Simulated voters' sessions (issued only by
        code holding the server secret) are not limited: a calibration casts hundreds of votes a minute."""
        if client.simulated:
            return
        self.limiter.hit(action, client)
