"""exemptions: the principal's decisions that a student does not study a subject for a term or the year (miễn học)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 13:15:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exemptions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('subject_code', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=4), nullable=False, comment='hk1, hk2 or year (both terms)'),
    sa.Column('reason', sa.Text(), nullable=False, comment="The principal's decision, as stated"),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id', 'student_id'], ['enrolments.class_id', 'enrolments.student_id'],
                            name=op.f('fk_exemptions_class_id_enrolments')),
    sa.ForeignKeyConstraint(['class_id', 'subject_code'], ['assignments.class_id', 'assignments.subject_code'],
                            name=op.f('fk_exemptions_class_id_assignments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exemptions')),
    sa.UniqueConstraint('class_id', 'student_id', 'subject_code', 'period', name='uq_exemptions_period')
    )
    op.create_index(op.f('ix_exemptions_school_id'), 'exemptions', ['school_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_exemptions_school_id'), table_name='exemptions')
    op.drop_table('exemptions')
