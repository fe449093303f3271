"""battles.design_weight: the matchmaker's inverse-probability weight of each pick (1 for existing battles)

Revision ID: 0007_design_weight
Revises: 0006_runs
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_design_weight"
down_revision: str | None = "0006_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on every database (SQLite ≥ 3.35 drops columns in place): no table copy, so the foreign keys
# of the votes are never in the way and no row moves.
def upgrade() -> None:
    op.add_column("battles", sa.Column("design_weight", sa.Float(), nullable=False, server_default="1"))


def downgrade() -> None:
    op.drop_column("battles", "design_weight")
