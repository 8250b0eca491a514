"""User.session_generation: raising it ends every session of the user.

Revision ID: auth_session_generation
Revises: complaints_capa_verification
"""
import sqlalchemy as sa
from alembic import op

revision = "auth_session_generation"
down_revision = "complaints_capa_verification"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
