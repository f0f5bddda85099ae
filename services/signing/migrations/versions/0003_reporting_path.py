"""reporting path of each record (regular 30 June, supplementary 15 August), carried from assembly to the seal

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 12:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'signing_records',
        sa.Column(
            'reporting_path',
            sa.String(length=16),
            server_default=sa.text("'regular'"),
            nullable=False,
            comment='regular (30 June) or supplementary (15 August), as assembled; announced with the seal',
        ),
    )


def downgrade() -> None:
    op.drop_column('signing_records', 'reporting_path')
