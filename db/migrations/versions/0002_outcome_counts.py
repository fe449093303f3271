"""vote_counts: one row per key with a count per choice (n_left, n_right, n_tie, n_both_bad)

The board reads every row of vote_counts; holding the four outcomes of a key in one row reads up to four times
fewer rows. The table is derived data: it is recreated in the new layout and `board_state.stale` is set when
there are votes, so the arena recounts it from the votes at its next start (arena.services.tallies). No vote is
touched.

Revision ID: 0002_outcome_counts
Revises: 0007_design_weight
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_outcome_counts"
down_revision: str | None = "0007_design_weight"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY: tuple[str, ...] = ("simulated", "prompt_id", "left_model_id", "right_model_id", "weight", "weight_class")
_KEY += tuple(f"{side}_{x}" for side in ("left", "right") for x in ("frames", "width", "height", "fps"))


def _key_columns() -> list[sa.Column]:
    shape = [
        sa.Column(f"{side}_{x}", sa.Float() if x == "fps" else sa.Integer(), nullable=False)
        for side in ("left", "right")
        for x in ("frames", "width", "height", "fps")
    ]
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("left_model_id", sa.String(length=64), nullable=False),
        sa.Column("right_model_id", sa.String(length=64), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("weight_class", sa.Integer(), nullable=False),
        *shape,
    ]


def _create(outcomes: list[sa.Column], key: tuple[str, ...]) -> None:
    op.create_table(
        "vote_counts",
        *_key_columns(),
        *outcomes,
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["left_model_id"], ["models.id"]),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"]),
        sa.ForeignKeyConstraint(["right_model_id"], ["models.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(*key, name="uq_vote_counts_key"),
    )
    with op.batch_alter_table("vote_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vote_counts_version"), ["version"], unique=False)


def _drop() -> None:
    with op.batch_alter_table("vote_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_counts_version"))
    op.drop_table("vote_counts")


def _recount_at_next_start() -> None:
    op.execute("UPDATE board_state SET stale = (SELECT EXISTS (SELECT 1 FROM votes))")


def upgrade() -> None:
    _drop()
    outcomes = [sa.Column(n, sa.Integer(), nullable=False) for n in ("n_left", "n_right", "n_tie", "n_both_bad")]
    _create(outcomes, _KEY)
    _recount_at_next_start()


def downgrade() -> None:
    _drop()
    choice = sa.Enum("left", "right", "tie", "both_bad", name="votechoice", native_enum=False, length=16)
    key = (*_KEY[:4], "choice", *_KEY[4:])
    _create([sa.Column("choice", choice, nullable=False), sa.Column("n", sa.Integer(), nullable=False)], key)
    _recount_at_next_start()
