"""awards: the principal's titles for a student's school year (khen thưởng, TT22 art. 15, TT27 art. 13)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 16:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('awards',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('school_id', sa.String(length=64), nullable=False),
    sa.Column('class_id', sa.String(length=64), nullable=False),
    sa.Column('student_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False, comment='xuat_sac, gioi (TT22) or tieu_bieu (TT27)'),
    sa.Column('reason', sa.Text(), nullable=False, comment="The principal's decision and its grounds, as stated"),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id', 'student_id'], ['enrolments.class_id', 'enrolments.student_id'],
                            name=op.f('fk_awards_class_id_enrolments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awards')),
    sa.UniqueConstraint('class_id', 'student_id', name='uq_awards_student')
    )
    op.create_index(op.f('ix_awards_school_id'), 'awards', ['school_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_awards_school_id'), table_name='awards')
    op.drop_table('awards')
