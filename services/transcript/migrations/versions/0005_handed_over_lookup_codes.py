"""handovers carry the học bạ's lookup code: a transferred student keeps one code at every school

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 18:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The receiving school's học bạ of a transferred student takes the sending school's lookup code (rules.md, "Cases
# every school has": one học bạ and one lookup code for life), so a code is no longer unique across schools: each
# school's row is its own (its school_id, its records), the code is the student's. Not unique per school either: a
# student who comes back to a school under a new student id gets a second row there with the same code (see
# services/transcript/app/handover.py). Lookups by code are always scoped by school.
# Handovers received before this got their code and level from the sending school's học bạ, which every handover
# row was made from (app/handover.py reads it before it writes the row); rows restored from an older archive may
# lack them: those students get a new code, as before.


def upgrade() -> None:
    op.add_column('handovers', sa.Column(
        'lookup_code', sa.String(length=32), nullable=True,
        comment="The học bạ's lookup code: the receiving school's học bạ continues it",
    ))
    op.add_column('handovers', sa.Column(
        'level', sa.String(length=20), nullable=True, comment='School level of the học bạ handed over',
    ))
    op.execute(
        "UPDATE handovers h SET lookup_code = t.lookup_code, level = t.level "
        "FROM transcripts t WHERE t.id = h.transcript_id"
    )
    op.drop_constraint('uq_transcripts_lookup_code', 'transcripts', type_='unique')
    op.create_index('ix_transcripts_lookup_code', 'transcripts', ['lookup_code'])
    op.alter_column('transcripts', 'lookup_code', existing_type=sa.String(length=32), existing_nullable=False,
                    comment="32 lowercase hex; the student's for life: a transfer's receiving school continues it")


def downgrade() -> None:
    # Fails once a transferred student's code is held at two schools: that is the point of 0005.
    op.alter_column('transcripts', 'lookup_code', existing_type=sa.String(length=32), existing_nullable=False,
                    comment='32 lowercase hex; never reused')
    op.drop_index('ix_transcripts_lookup_code', table_name='transcripts')
    op.create_unique_constraint('uq_transcripts_lookup_code', 'transcripts', ['lookup_code'])
    op.drop_column('handovers', 'level')
    op.drop_column('handovers', 'lookup_code')
