"""seal attempts and the last seal error: a failing record is postponed further each time and reported stuck

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 11:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'signing_records',
        sa.Column(
            'seal_attempts',
            sa.Integer(),
            server_default=sa.text('0'),
            nullable=False,
            comment='Seal tries that failed; the timer postpones a failing record further each time',
        ),
    )
    op.add_column(
        'signing_records',
        sa.Column('seal_error', sa.Text(), nullable=True, comment='Why the last seal try failed (no personal data)'),
    )


def downgrade() -> None:
    op.drop_column('signing_records', 'seal_error')
    op.drop_column('signing_records', 'seal_attempts')
