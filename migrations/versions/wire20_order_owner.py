"""Orders: the CSR in charge (the customer's responsible CSR unless chosen)

Revision ID: wire20_order_owner
Revises: opsperf_order_indexes

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'wire20_order_owner'
down_revision = 'opsperf_order_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ops_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ops_order_owner_id'), ['owner_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ops_order_owner_id_user'), 'user', ['owner_id'], ['id'])
    op.execute("UPDATE ops_order SET owner_id = (SELECT customer.csr_id FROM customer "
               "WHERE customer.id = ops_order.customer_id)")


def downgrade():
    with op.batch_alter_table('ops_order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ops_order_owner_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ops_order_owner_id'))
        batch_op.drop_column('owner_id')
