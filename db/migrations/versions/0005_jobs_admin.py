"""live generation jobs, app-process heartbeats, model state (admin override, load back-off), board exclusions

Revision ID: 0005_jobs_admin
Revises: 0004_battle_clients
Create Date: 2026-12-01 21:04:06.865563
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005_jobs_admin'
down_revision: str | None = "0004_battle_clients"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('board_exclusions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('session', 'ip_hash', name='exclusionkind', native_enum=False, length=16), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'value', name='uq_board_exclusion')
    )
    op.create_table('workers',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('model_state',
    sa.Column('model_id', sa.String(length=64), nullable=False),
    sa.Column('admin_enabled', sa.Boolean(), nullable=True),
    sa.Column('unavailable_reason', sa.Text(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ),
    sa.PrimaryKeyConstraint('model_id')
    )
    op.create_table('generation_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('battle_id', sa.String(length=32), nullable=False),
    sa.Column('model_id', sa.String(length=64), nullable=False),
    sa.Column('prompt_id', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('client', sa.String(length=128), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', 'cancelled', name='jobstatus', native_enum=False, length=16), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('video_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('public_error', sa.Text(), nullable=True),
    sa.Column('worker_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['battle_id'], ['battles.id'], ),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], ),
    sa.ForeignKeyConstraint(['prompt_id'], ['prompts.id'], ),
    sa.ForeignKeyConstraint(['video_id'], ['videos.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('generation_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_generation_jobs_battle_id'), ['battle_id'], unique=False)
        batch_op.create_index('ix_generation_jobs_status_model', ['status', 'model_id'], unique=False)

    with op.batch_alter_table('battles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker_id', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('battles', schema=None) as batch_op:
        batch_op.drop_column('worker_id')

    with op.batch_alter_table('generation_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_generation_jobs_status_model')
        batch_op.drop_index(batch_op.f('ix_generation_jobs_battle_id'))

    op.drop_table('generation_jobs')
    op.drop_table('model_state')
    op.drop_table('workers')
    op.drop_table('board_exclusions')
