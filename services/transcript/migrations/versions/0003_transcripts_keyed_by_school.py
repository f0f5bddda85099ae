"""transcripts: a student id is the school's own; the học bạ key is (school, student, level)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The old key (student_id, level) was global: a school naming another school's student id reached that school's
# học bạ. Every existing row satisfies the new key (it only adds a column to the old one).
# Year records written into another school's học bạ before this (year_records.school_id differing from
# transcripts.school_id) are left for an operator to judge; they are listed by
#   SELECT y.id, y.school_id, t.school_id FROM year_records y JOIN transcripts t ON t.id = y.transcript_id
#   WHERE y.school_id <> t.school_id;


def upgrade() -> None:
    op.drop_constraint('uq_transcripts_student_level', 'transcripts', type_='unique')
    op.create_unique_constraint(
        'uq_transcripts_school_student_level', 'transcripts', ['school_id', 'student_id', 'level']
    )
    op.alter_column('transcripts', 'school_id', existing_type=sa.String(length=64), existing_nullable=False,
                    comment='The school that keeps this học bạ')
    op.alter_column('transcripts', 'student_id', existing_type=sa.String(length=64), existing_nullable=False,
                    comment="The school's own id of the student")


def downgrade() -> None:
    # Fails if two schools have since used the same student id for the same level: that is the point of 0003.
    op.alter_column('transcripts', 'student_id', existing_type=sa.String(length=64), existing_nullable=False,
                    comment=None)
    op.alter_column('transcripts', 'school_id', existing_type=sa.String(length=64), existing_nullable=False,
                    comment=None)
    op.drop_constraint('uq_transcripts_school_student_level', 'transcripts', type_='unique')
    op.create_unique_constraint('uq_transcripts_student_level', 'transcripts', ['student_id', 'level'])
