"""amendments: every approved amendment kept, so a year's lock replayed after it builds the amended values

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 11:45:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'amendments',
        sa.Column('amendment_id', sa.String(length=64), nullable=False),
        sa.Column('school_id', sa.String(length=64), nullable=False),
        sa.Column('class_id', sa.String(length=64), nullable=False),
        sa.Column('school_year', sa.String(length=9), nullable=False),
        sa.Column('student_id', sa.String(length=64), nullable=False),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            'event',
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment='The AmendmentAppliedV1 as received (its class snapshot)',
        ),
        sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('amendment_id'),
    )
    op.create_index(
        'ix_amendments_class', 'amendments', ['school_id', 'class_id', 'school_year']
    )


def downgrade() -> None:
    op.drop_index('ix_amendments_class', table_name='amendments')
    op.drop_table('amendments')
