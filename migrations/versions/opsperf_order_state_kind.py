"""Orders: an index on state and kind (the open ship orders a vessel call's parcel may name)

Revision ID: opsperf_order_state_kind
Revises: recon16_investigation_comparison

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'opsperf_order_state_kind'
down_revision = 'recon16_investigation_comparison'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ops_order', schema=None) as batch_op:
        batch_op.create_index('ix_ops_order_state_kind', ['state', 'kind'], unique=False)


def downgrade():
    with op.batch_alter_table('ops_order', schema=None) as batch_op:
        batch_op.drop_index('ix_ops_order_state_kind')
