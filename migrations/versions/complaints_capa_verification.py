"""Complaints: CAPA actions verified by someone other than their owner; closing without the report needs a reason

Revision ID: complaints_capa_verification
Revises: ad993c5899cd
Create Date: 2026-12-01 00:30:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models


# revision identifiers, used by Alembic.
revision = 'complaints_capa_verification'
down_revision = 'ad993c5899cd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cs_capa_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('verified_at', portal.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('verification_note', sa.Text(), server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_cs_capa_action_completed_by_id_user'), 'user', ['completed_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_cs_capa_action_verified_by_id_user'), 'user', ['verified_by_id'], ['id'])
    with op.batch_alter_table('cs_capa_action', schema=None) as batch_op:
        batch_op.alter_column('verification_note', server_default=None)
    # Actions already done before this change were closed by their owner's word: they stay "done" and now wait
    # for verification by someone else.

    with op.batch_alter_table('cs_complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_without_report_reason', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('cs_complaint', schema=None) as batch_op:
        batch_op.alter_column('closed_without_report_reason', server_default=None)


def downgrade():
    with op.batch_alter_table('cs_complaint', schema=None) as batch_op:
        batch_op.drop_column('closed_without_report_reason')
    op.execute("UPDATE cs_capa_action SET status = 'done' WHERE status = 'verified'")
    with op.batch_alter_table('cs_capa_action', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cs_capa_action_verified_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cs_capa_action_completed_by_id_user'), type_='foreignkey')
        batch_op.drop_column('verification_note')
        batch_op.drop_column('verified_at')
        batch_op.drop_column('verified_by_id')
        batch_op.drop_column('completed_by_id')
