"""battles: client-first composite indexes (open battles, revealed clips, last vote) in place of the single-column
session_id and ip_hash ones, so a start or vote reads what one client has open or asked, not its whole history

Revision ID: 0009_battle_client_indexes
Revises: 0008_video_created_index
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_battle_client_indexes"
down_revision: str | None = "0008_video_created_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVEALED = ["mode", "revealed_at", "left_video_id", "right_video_id"]  # what revealed_to filters on and reads
INDEXES = {
    "ix_battles_ip_open": ["ip_hash", "status", "created_at"],
    "ix_battles_session_open": ["session_id", "status", "created_at"],
    "ix_battles_ip_prompt": ["ip_hash", "prompt_id", *REVEALED],
    "ix_battles_session_prompt": ["session_id", "prompt_id", *REVEALED],
    "ix_battles_session_voted": ["session_id", "voted_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "battles", columns, unique=False)
    op.drop_index("ix_battles_session_id", table_name="battles")
    op.drop_index("ix_battles_ip_hash", table_name="battles")


def downgrade() -> None:
    op.create_index("ix_battles_ip_hash", "battles", ["ip_hash"], unique=False)
    op.create_index("ix_battles_session_id", "battles", ["session_id"], unique=False)
    for name in INDEXES:
        op.drop_index(name, table_name="battles")
