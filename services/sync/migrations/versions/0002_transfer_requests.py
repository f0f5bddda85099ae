"""transfer requests: a transfer is asked by the receiving school and decided by the sending principal

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 06:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('transfer_requests',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('from_school', sa.String(length=64), nullable=False, comment='The sending school: its principal decides'),
    sa.Column('to_school', sa.String(length=64), nullable=False, comment='The receiving school, which asked'),
    sa.Column('transcript_id', sa.String(length=64), nullable=False, comment='The học bạ at the sending school'),
    sa.Column('status', sa.String(length=16), nullable=False, comment='pending | approved | refused'),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True, comment='Why the sending principal refused'),
    sa.Column('gateway_transfer_id', sa.String(length=64), nullable=True, comment="The province's id of the handover"),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_requests'))
    )
    op.create_index(op.f('ix_transfer_requests_from_school'), 'transfer_requests', ['from_school'], unique=False)
    op.create_index(op.f('ix_transfer_requests_to_school'), 'transfer_requests', ['to_school'], unique=False)
    op.create_index('uq_transfer_requests_pending', 'transfer_requests', ['transcript_id', 'to_school'], unique=True, postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index('uq_transfer_requests_pending', table_name='transfer_requests', postgresql_where=sa.text("status = 'pending'"))
    op.drop_index(op.f('ix_transfer_requests_to_school'), table_name='transfer_requests')
    op.drop_index(op.f('ix_transfer_requests_from_school'), table_name='transfer_requests')
    op.drop_table('transfer_requests')
