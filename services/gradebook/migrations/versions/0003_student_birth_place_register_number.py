"""students: place of birth and register number (số đăng bộ), printed on the học bạ

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 12:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Optional (nullable): rows imported before these columns existed keep working; the form prints "—".
    op.add_column('students', sa.Column('birth_place', sa.String(length=200), nullable=True,
                                        comment='Nơi sinh, as printed on the học bạ'))
    op.add_column('students', sa.Column('register_number', sa.String(length=32), nullable=True,
                                        comment="Số đăng bộ in the school's register"))


def downgrade() -> None:
    op.drop_column('students', 'register_number')
    op.drop_column('students', 'birth_place')
