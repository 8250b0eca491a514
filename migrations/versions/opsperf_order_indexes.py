"""Orders list: the indexed sort time (planned start, else received) and indexes for the list's filters

Revision ID: opsperf_order_indexes
Revises: opsstock_stock_book

"""
from alembic import op
import sqlalchemy as sa

import portal.models


# revision identifiers, used by Alembic.
revision = 'opsperf_order_indexes'
down_revision = 'opsstock_stock_book'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ops_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_at', portal.models.UTCDateTime(), nullable=True))
    op.execute("UPDATE ops_order SET sort_at = COALESCE(planned_start, received_at)")
    with op.batch_alter_table('ops_order', schema=None) as batch_op:
        batch_op.alter_column('sort_at', existing_type=portal.models.UTCDateTime(), nullable=False)
        batch_op.create_index(batch_op.f('ix_ops_order_sort_at'), ['sort_at'], unique=False)
        batch_op.create_index('ix_ops_order_customer_sort', ['customer_id', 'sort_at'], unique=False)
        batch_op.create_index('ix_ops_order_counterparty_sort', ['counterparty_id', 'sort_at'], unique=False)
        batch_op.create_index('ix_ops_order_product_sort', ['product_id', 'sort_at'], unique=False)
        batch_op.create_index('ix_ops_order_tank_sort', ['tank_id', 'sort_at'], unique=False)
        batch_op.create_index('ix_ops_order_state_sort', ['state', 'sort_at'], unique=False)
        batch_op.create_index('ix_ops_order_kind_sort', ['kind', 'sort_at'], unique=False)


def downgrade():
    with op.batch_alter_table('ops_order', schema=None) as batch_op:
        batch_op.drop_index('ix_ops_order_kind_sort')
        batch_op.drop_index('ix_ops_order_state_sort')
        batch_op.drop_index('ix_ops_order_tank_sort')
        batch_op.drop_index('ix_ops_order_product_sort')
        batch_op.drop_index('ix_ops_order_counterparty_sort')
        batch_op.drop_index('ix_ops_order_customer_sort')
        batch_op.drop_index(batch_op.f('ix_ops_order_sort_at'))
        batch_op.drop_column('sort_at')
