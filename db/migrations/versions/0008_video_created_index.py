"""videos.created_at indexed: the battle pool's fingerprint reads the newest one at every battle start

Revision ID: 0008_video_created_index
Revises: 0002_outcome_counts
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008_video_created_index"
down_revision: str | None = "0002_outcome_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_videos_created_at", "videos", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_videos_created_at", table_name="videos")
