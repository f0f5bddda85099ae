"""individual plans: the principal's decision that a student with disabilities is assessed, in the subjects it names,
against an individual education plan (kế hoạch giáo dục cá nhân, TT22 art. 10)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 22:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('individual_plans',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('subjects', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
              comment='The subject codes assessed against the plan'),
    sa.Column('reason', sa.Text(), nullable=False,
              comment="The principal's decision and the plan's reference, as stated"),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id', 'student_id'], ['enrolments.class_id', 'enrolments.student_id'],
                            name=op.f('fk_individual_plans_class_id_enrolments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_individual_plans')),
    sa.UniqueConstraint('class_id', 'student_id', name='uq_individual_plans_student')
    )
    op.create_index(op.f('ix_individual_plans_school_id'), 'individual_plans', ['school_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_individual_plans_school_id'), table_name='individual_plans')
    op.drop_table('individual_plans')
