"""Variance investigations say which comparison they are about (physical vs book, physical vs customs, book vs
customs): one investigation per tank x customer x product x comparison.

Revision ID: recon16_investigation_comparison
Revises: monthly_reports
Create Date: 2026-12-01 10:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'recon16_investigation_comparison'
down_revision = 'monthly_reports'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ops_monthend_investigation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comparison', sa.String(length=16), server_default='book', nullable=False))
        batch_op.drop_constraint('uq_ops_monthend_investigation_key', type_='unique')
        batch_op.create_unique_constraint('uq_ops_monthend_investigation_comparison',
                                          ['period_id', 'tank_id', 'customer_id', 'product_id', 'comparison'])


def downgrade():
    op.execute("DELETE FROM ops_monthend_investigation WHERE comparison <> 'book'")
    with op.batch_alter_table('ops_monthend_investigation', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ops_monthend_investigation_comparison', type_='unique')
        batch_op.create_unique_constraint('uq_ops_monthend_investigation_key',
                                          ['period_id', 'tank_id', 'customer_id', 'product_id'])
        batch_op.drop_column('comparison')
