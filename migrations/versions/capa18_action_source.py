"""CAPA actions: one record for complaints and surveys (an action's source is a complaint or a survey answer);
the survey follow-ups become CAPA actions

Revision ID: capa18_action_source
Revises: billing_runs

"""
from alembic import op
import sqlalchemy as sa

import portal.models


# revision identifiers, used by Alembic.
revision = 'capa18_action_source'
down_revision = 'billing_runs'
branch_labels = None
depends_on = None

ONE_SOURCE = "(complaint_id IS NULL) <> (survey_answer_id IS NULL)"


def upgrade():
    with op.batch_alter_table('cs_capa_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('survey_answer_id', sa.Integer(), nullable=True))
        batch_op.alter_column('complaint_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_cs_capa_action_survey_answer_id'), ['survey_answer_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cs_capa_action_survey_answer_id_sv_answer'), 'sv_answer',
                                    ['survey_answer_id'], ['id'], ondelete='CASCADE')
        batch_op.create_check_constraint(batch_op.f('ck_cs_capa_action_one_source'), ONE_SOURCE)

    # Each survey follow-up becomes a corrective action with its answer as the source. A follow-up marked
    # done was never verified by a second person: it becomes "done, awaiting verification".
    op.execute(
        "INSERT INTO cs_capa_action (survey_answer_id, kind, description, owner_id, due_date, status, "
        "completion_note, completed_at, verification_note, created_at, updated_at, created_by_id) "
        "SELECT answer_id, 'corrective', description, owner_id, due_date, "
        "CASE status WHEN 'done' THEN 'done' WHEN 'cancelled' THEN 'cancelled' ELSE 'open' END, "
        "completion_note, completed_at, '', created_at, updated_at, created_by_id "
        "FROM sv_follow_up ORDER BY id"
    )

    with op.batch_alter_table('sv_follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sv_follow_up_owner_id'))
        batch_op.drop_index(batch_op.f('ix_sv_follow_up_answer_id'))
    op.drop_table('sv_follow_up')


def downgrade():
    op.create_table('sv_follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('completion_note', sa.Text(), nullable=False),
    sa.Column('completed_at', portal.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', portal.models.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['sv_answer.id'], name=op.f('fk_sv_follow_up_answer_id_sv_answer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_sv_follow_up_created_by_id_user')),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_sv_follow_up_owner_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sv_follow_up'))
    )
    with op.batch_alter_table('sv_follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sv_follow_up_answer_id'), ['answer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sv_follow_up_owner_id'), ['owner_id'], unique=False)

    # the survey actions back to follow-ups (done and verified both read "done"; in progress reads "open")
    op.execute(
        "INSERT INTO sv_follow_up (answer_id, description, owner_id, due_date, status, completion_note, "
        "completed_at, created_at, updated_at, created_by_id) "
        "SELECT survey_answer_id, description, owner_id, due_date, "
        "CASE status WHEN 'done' THEN 'done' WHEN 'verified' THEN 'done' WHEN 'cancelled' THEN 'cancelled' "
        "ELSE 'open' END, completion_note, completed_at, created_at, updated_at, created_by_id "
        "FROM cs_capa_action WHERE survey_answer_id IS NOT NULL ORDER BY id"
    )
    op.execute("DELETE FROM cs_capa_action WHERE survey_answer_id IS NOT NULL")

    with op.batch_alter_table('cs_capa_action', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cs_capa_action_one_source'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_cs_capa_action_survey_answer_id_sv_answer'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cs_capa_action_survey_answer_id'))
        batch_op.drop_column('survey_answer_id')
        batch_op.alter_column('complaint_id', existing_type=sa.Integer(), nullable=False)
