"""vote counts, raters, stored Elo, board state; votes.simulated

Adds what the board reads instead of every vote (see arena/services/tallies.py): `vote_counts` (anonymous,
non-gold votes counted by what the board and the decision layer group by), `raters` (gold-pair records per
session and per IP hash, and the weight class they earn), `elo_ratings` (online Elo, moved by each vote as it is
stored) and `board_state` (a version that orders the tally writers and tells readers what changed). Adds
`votes.simulated` (false for every existing vote) and an index on `votes.ip_hash` (gold records per address).

Existing votes are kept as they are. On a database that already has votes the tallies start empty and
`board_state.stale` is set: the arena rebuilds them from the votes at its next start (before any board is read),
with the same code that keeps them up to date, so a migration never carries a second copy of that logic.

Revision ID: 0002_vote_counts
Revises: 0005_jobs_admin
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_vote_counts"
down_revision: str | None = "0005_jobs_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHOICE = sa.Enum("left", "right", "tie", "both_bad", name="votechoice", native_enum=False, length=16)
_KEY = (
    "simulated",
    "prompt_id",
    "left_model_id",
    "right_model_id",
    "choice",
    "weight",
    "weight_class",
    "left_frames",
    "left_width",
    "left_height",
    "left_fps",
    "right_frames",
    "right_width",
    "right_height",
    "right_fps",
)


def upgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("simulated", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f("ix_votes_ip_hash"), ["ip_hash"], unique=False)

    op.create_table(
        "vote_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("left_model_id", sa.String(length=64), nullable=False),
        sa.Column("right_model_id", sa.String(length=64), nullable=False),
        sa.Column("choice", _CHOICE, nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("weight_class", sa.Integer(), nullable=False),
        sa.Column("left_frames", sa.Integer(), nullable=False),
        sa.Column("left_width", sa.Integer(), nullable=False),
        sa.Column("left_height", sa.Integer(), nullable=False),
        sa.Column("left_fps", sa.Float(), nullable=False),
        sa.Column("right_frames", sa.Integer(), nullable=False),
        sa.Column("right_width", sa.Integer(), nullable=False),
        sa.Column("right_height", sa.Integer(), nullable=False),
        sa.Column("right_fps", sa.Float(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["left_model_id"], ["models.id"]),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"]),
        sa.ForeignKeyConstraint(["right_model_id"], ["models.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(*_KEY, name="uq_vote_counts_key"),
    )
    with op.batch_alter_table("vote_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vote_counts_version"), ["version"], unique=False)

    op.create_table(
        "raters",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("gold_votes", sa.Integer(), nullable=False),
        sa.Column("gold_credit", sa.Float(), nullable=False),
        sa.Column("weight_class", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_table(
        "elo_ratings",
        sa.Column("population", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("rating", sa.Float(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("population", "language", "category", "model_id"),
    )
    board_state = op.create_table(
        "board_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    has_votes = op.get_bind().execute(sa.text("SELECT EXISTS (SELECT 1 FROM votes)")).scalar()
    op.bulk_insert(board_state, [{"id": 1, "version": 0, "epoch": 0, "stale": bool(has_votes)}])


def downgrade() -> None:
    op.drop_table("board_state")
    op.drop_table("elo_ratings")
    op.drop_table("raters")
    with op.batch_alter_table("vote_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_counts_version"))
    op.drop_table("vote_counts")
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_votes_ip_hash"))
        batch_op.drop_column("simulated")
