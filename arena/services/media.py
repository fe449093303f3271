"""Where video files live: content-addressed originals, and per-battle copies under random names."""

from __future__ import annotations

import secrets
import time
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

    def remove_served(self, token: str) -> bool:
        """Delete a battle's served copy (its battle was voided); False when there was none."""
        try:
            self.served_path(token).unlink()
        except FileNotFoundError:
            return False
        return True

    def prune_served(self, max_age_s: float) -> int:
        """Delete per-battle copies older than ``max_age_s`` (by then their battle is voted, void or expired);
        returns how many were removed. Originals are never touched."""
        folder = self.root / "served"
        if not folder.is_dir():
            return 0
        cutoff = time.time() - max_age_s
        removed = 0
        for path in folder.glob("*.mp4"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another process pruned it first
                continue
        return removed
