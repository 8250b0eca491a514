"""Search relevance: a customer's former names and other names; the glossary as a structured list

Revision ID: searchrel_aliases_glossary
Revises: archive_text_extraction
"""
from alembic import op
import sqlalchemy as sa

import portal.models


revision = "searchrel_aliases_glossary"
down_revision = "dept_portfolios_cover"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aliases", sa.Text(), server_default="", nullable=False))
    op.create_table(
        "kb_glossary_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("english", sa.String(length=500), nullable=False),
        sa.Column("chinese", sa.String(length=500), nullable=False),
        sa.Column("abbreviations", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", portal.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", portal.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade():
    op.drop_table("kb_glossary_entry")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("aliases")
