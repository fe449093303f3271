"""Signed, stateless URLs for named clips (playground): any app process can verify them."""

from __future__ import annotations

import hashlib
import hmac
import re

_NAME = re.compile(r"^(\d+)-([0-9a-f]{32})\.mp4$")


class ClipSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(f"clips:{secret}".encode()).digest()

    def _sign(self, video_id: int) -> str:
        return hmac.new(self._key, str(video_id).encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, video_id: int) -> str:
        return f"/media/clip/{video_id}-{self._sign(video_id)}.mp4"

    def verify(self, name: str) -> int | None:
        """The video id of a well-signed name, else None."""
        match = _NAME.match(name)
        if not match or not hmac.compare_digest(match.group(2), self._sign(int(match.group(1)))):
            return None
        return int(match.group(1))
