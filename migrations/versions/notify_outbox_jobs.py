"""Notifications: the e-mail outbox, scheduled jobs and their runs, notice switches of users and customer contacts

Revision ID: notify_outbox_jobs
Revises: archive_text_extraction
Create Date: 2026-12-01 03:29:28.703124

"""
from alembic import op
import sqlalchemy as sa

import portal.models


# revision identifiers, used by Alembic.
revision = "notify_outbox_jobs"
down_revision = 'archive_text_extraction'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('started_at', portal.models.UTCDateTime(), nullable=False),
    sa.Column('finished_at', portal.models.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('host', sa.String(length=120), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_run_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_run_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_run_started_at'), ['started_at'], unique=False)

    op.create_table('job_state',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('next_due_at', portal.models.UTCDateTime(), nullable=False),
    sa.Column('running_since', portal.models.UTCDateTime(), nullable=True),
    sa.Column('running_token', sa.String(length=32), nullable=True),
    sa.Column('last_started_at', portal.models.UTCDateTime(), nullable=True),
    sa.Column('last_finished_at', portal.models.UTCDateTime(), nullable=True),
    sa.Column('last_outcome', sa.String(length=12), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_state'))
    )
    with op.batch_alter_table('job_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_state_next_due_at'), ['next_due_at'], unique=False)

    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('template', sa.String(length=80), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('to_name', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('record_key', sa.String(length=80), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('dedupe_key', sa.String(length=255), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', portal.models.UTCDateTime(), nullable=False),
    sa.Column('claimed_at', portal.models.UTCDateTime(), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('sent_at', portal.models.UTCDateTime(), nullable=True),
    sa.Column('transport', sa.String(length=10), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', portal.models.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('resent_from_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_outbox_message_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resent_from_id'], ['outbox_message.id'], name=op.f('fk_outbox_message_resent_from_id_outbox_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_outbox_message_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_message_dedupe_key')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_message_id'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_record_key'), ['record_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_to_address'), ['to_address'], unique=False)

    with op.batch_alter_table('customer_contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('notices_off', sa.String(length=500), server_default='', nullable=False))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notices_off', sa.String(length=500), server_default='', nullable=False))

    with op.batch_alter_table('cs_inquiry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to', sa.String(length=300), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('cs_inquiry', schema=None) as batch_op:
        batch_op.drop_column('reply_to')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('notices_off')

    with op.batch_alter_table('customer_contact', schema=None) as batch_op:
        batch_op.drop_column('notices_off')
        batch_op.drop_column('language')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_to_address'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_state'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_record_key'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_kind'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_created_at'))

    op.drop_table('outbox_message')
    with op.batch_alter_table('job_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_state_next_due_at'))

    op.drop_table('job_state')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_run_started_at'))
        batch_op.drop_index(batch_op.f('ix_job_run_outcome'))
        batch_op.drop_index(batch_op.f('ix_job_run_name'))

    op.drop_table('job_run')
