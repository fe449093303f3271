"""battles: the client's IP hash (open-battle caps) and when each video first reached the client (viewing time)

Revision ID: 0004_battle_clients
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_battle_clients"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("battles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ip_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("left_fetched_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("right_fetched_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_battles_ip_hash"), ["ip_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("battles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_battles_ip_hash"))
        batch_op.drop_column("right_fetched_at")
        batch_op.drop_column("left_fetched_at")
        batch_op.drop_column("ip_hash")
