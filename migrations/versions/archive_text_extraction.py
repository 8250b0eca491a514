"""Archive: text extracted after the commit (state and claim time of each record's extraction)

Revision ID: archive_text_extraction
Revises: auth_session_generation
"""
from alembic import op
import sqlalchemy as sa

import portal.models


revision = "archive_text_extraction"
down_revision = "auth_session_generation"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("archive_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("extraction_state", sa.String(length=20), server_default="done", nullable=False))
        batch_op.add_column(sa.Column("extraction_started_at", portal.models.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_archive_record_extraction_state"), ["extraction_state"], unique=False)


def downgrade():
    with op.batch_alter_table("archive_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_record_extraction_state"))
        batch_op.drop_column("extraction_started_at")
        batch_op.drop_column("extraction_state")
