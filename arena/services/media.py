"""Where video files live: content-addressed originals, and per-battle copies under random names."""

from __future__ import annotations

import secrets
from pathlib import Path

from adapters.video_io import content_hash, remux_for_battle

TOKEN_BYTES = 18  # 144 random bits per served file name


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class MediaStore:
    """Originals under ``videos/<aa>/<sha256>.mp4``; served copies under ``served/<token>.mp4``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(self, data: bytes) -> tuple[str, str]:
        """Store MP4 bytes; returns (path relative to the root, sha256). Identical bytes share one file."""
        digest = content_hash(data)
        rel = Path("videos") / digest[:2] / f"{digest}.mp4"
        path = self.root / rel
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
            tmp.write_bytes(data)
            tmp.replace(path)
        return rel.as_posix(), digest

    def path(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"media path escapes the media folder: {rel!r}")
        return path

    def served_path(self, token: str) -> Path:
        if not token.replace("-", "").replace("_", "").isalnum():
            raise ValueError("bad token")
        return self.root / "served" / f"{token}.mp4"

    def prepare_served(self, rel: str, token: str) -> Path:
        """A copy of the original with fresh bytes (remux + random tag) under the token's name."""
        target = self.served_path(token)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f"{target.name}.{secrets.token_hex(4)}.part")
            tmp.write_bytes(remux_for_battle(self.path(rel)))
            tmp.replace(target)
        return target
