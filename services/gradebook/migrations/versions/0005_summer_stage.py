"""the summer stage: marks, homeroom records and locks take the stage "summer" beside hk1 and hk2 (TT22 art. 12–14)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 13:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('term_locks', 'marks', 'student_terms')
COMMENT = 'hk1, hk2 or summer (re-test, summer training)'


def upgrade() -> None:
    # Widening a varchar rewrites nothing in PostgreSQL: no table is copied, existing rows stay as they are.
    for table in TABLES:
        op.alter_column(table, 'term', type_=sa.String(length=6), existing_type=sa.String(length=3),
                        existing_nullable=False, comment=COMMENT)


def downgrade() -> None:
    # The summer rows do not fit the old width: they go first (a downgrade loses the summer stage).
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE term = 'summer'")
        op.alter_column(table, 'term', type_=sa.String(length=3), existing_type=sa.String(length=6),
                        existing_nullable=False, comment=None, existing_comment=COMMENT)
