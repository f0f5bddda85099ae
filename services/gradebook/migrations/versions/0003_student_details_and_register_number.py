"""students: sealed birth details and the register number (số đăng bộ), printed on the học bạ

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
    # Nullable: students imported before these existed print "—" until the clerk imports them again (the data key
    # that seals the details is not available to a migration).
    op.add_column('students', sa.Column('personal_details_enc', sa.LargeBinary(), nullable=True,
                                        comment='Date and place of birth, ethnicity (JSON) for the học bạ, AES-GCM encrypted'))
    op.add_column('students', sa.Column('register_number', sa.String(length=32), nullable=True,
                                        comment="Số đăng bộ in the school's register"))


def downgrade() -> None:
    op.drop_column('students', 'register_number')
    op.drop_column('students', 'personal_details_enc')
