"""handovers name the student by the keyed hash of the personal ID too, for a student without a MOET code

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 22:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# A student the Ministry's database has not given a MOET code yet was never matched at the receiving school (new
# học bạ, new lookup code). The handover row now also keeps the HMAC of the sending học bạ's personal ID (the
# data key's personal-ID lookup sub-key, as gradebook's students.personal_id_hash), written when the handover
# arrives. Rows received before this have none: the migration cannot open the sealed IDs (it holds no data key),
# so those students are matched by MOET code only, as before.


def upgrade() -> None:
    op.add_column('handovers', sa.Column(
        'personal_id_hash', sa.String(length=64), nullable=True,
        comment="Keyed hash (HMAC) of the student's personal ID: found by it where there is no MOET code",
    ))
    op.create_index('ix_handovers_personal_id_hash', 'handovers', ['personal_id_hash'])


def downgrade() -> None:
    op.drop_index('ix_handovers_personal_id_hash', table_name='handovers')
    op.drop_column('handovers', 'personal_id_hash')
