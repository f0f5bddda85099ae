"""carried terms: the term a student who joined during the year studied at the previous school (chuyển trường),
as the receiving school recorded it, and as the sending school's gradebook handed it over

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 21:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('carried_terms',
    sa.Column('school_id', sa.String(length=64), nullable=False, comment='The receiving school (the tenant)'),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('term', sa.String(length=3), nullable=False, comment='The term studied at the previous school: hk1'),
    sa.Column('from_school_id', sa.String(length=64), nullable=False,
              comment='The sending school, as the papers name it'),
    sa.Column('from_school_name', sa.Text(), nullable=False, comment='Its name as printed on the học bạ'),
    sa.Column('subjects', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
              comment='Subject code → ĐTBmhk (decimal text) or Đ/CĐ'),
    sa.Column('conduct', sa.String(length=16), nullable=True),
    sa.Column('absences', sa.Integer(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False, comment='What it was entered from (the handed-over record)'),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id', 'student_id'], ['enrolments.class_id', 'enrolments.student_id'],
                            name=op.f('fk_carried_terms_class_id_enrolments')),
    sa.PrimaryKeyConstraint('class_id', 'student_id', 'term', name=op.f('pk_carried_terms'))
    )
    op.create_index(op.f('ix_carried_terms_school_id'), 'carried_terms', ['school_id'], unique=False)
    op.create_table('handed_over_terms',
    sa.Column('school_id', sa.String(length=64), nullable=False, comment='The receiving school (the tenant)'),
    sa.Column('transcript_id', sa.String(length=64), nullable=False,
              comment="The học bạ handed over (sync's transfer)"),
    sa.Column('school_year', sa.String(length=9), nullable=False),
    sa.Column('term', sa.String(length=3), nullable=False, comment='The term locked at the sending school: hk1'),
    sa.Column('moet_code', sa.String(length=64), nullable=True,
              comment="How the receiving school's roster finds the student"),
    sa.Column('from_school_id', sa.String(length=64), nullable=False),
    sa.Column('from_school_name', sa.Text(), nullable=False),
    sa.Column('subjects', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
              comment='Subject code → ĐTBmhk (decimal text) or Đ/CĐ'),
    sa.Column('conduct', sa.String(length=16), nullable=True),
    sa.Column('absences', sa.Integer(), nullable=True),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=False, comment="The sending school's term lock"),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('school_id', 'transcript_id', 'school_year', 'term', name=op.f('pk_handed_over_terms'))
    )


def downgrade() -> None:
    op.drop_table('handed_over_terms')
    op.drop_index(op.f('ix_carried_terms_school_id'), table_name='carried_terms')
    op.drop_table('carried_terms')
