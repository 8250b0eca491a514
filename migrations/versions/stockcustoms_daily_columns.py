"""Stock book: the daily balances keep customs releases in columns of their own

Revision ID: stockcustoms_daily_columns
Revises: capa18_action_source
"""
import sqlalchemy as sa
from alembic import op

revision = 'stockcustoms_daily_columns'
down_revision = 'capa18_action_source'
branch_labels = None
depends_on = None

COLUMNS = ("customs_in_kg", "customs_in_m3", "customs_out_kg", "customs_out_m3")
TABLES = ("ops_stock_daily",)


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for name in COLUMNS:
                batch.add_column(sa.Column(name, sa.Numeric(precision=18, scale=3), nullable=False, server_default="0"))
        with op.batch_alter_table(table) as batch:
            for name in COLUMNS:
                batch.alter_column(name, server_default=None)
    # Releases posted before this revision were summed in the ownership columns: move them over.
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT m.customer_id, m.tank_id, m.product_id, m.customs_status, m.day, m.kind, "
        "sum(m.qty_kg), sum(m.qty_m3) FROM ops_stock_movement m "
        "WHERE m.kind IN ('customs_in', 'customs_out') "
        "GROUP BY m.customer_id, m.tank_id, m.product_id, m.customs_status, m.day, m.kind")).fetchall()
    for customer_id, tank_id, product_id, status, day, kind, kg, m3 in rows:
        moved_from = "ownership_in" if kind == "customs_in" else "ownership_out"
        conn.execute(sa.text(
            f"UPDATE ops_stock_daily SET {kind}_kg = {kind}_kg + :kg, {kind}_m3 = {kind}_m3 + :m3, "
            f"{moved_from}_kg = {moved_from}_kg - :kg, {moved_from}_m3 = {moved_from}_m3 - :m3 "
            "WHERE customer_id = :c AND tank_id = :t AND product_id = :p AND customs_status = :s AND day = :d"),
            {"kg": kg, "m3": m3, "c": customer_id, "t": tank_id, "p": product_id, "s": status, "d": day})


def downgrade():
    with op.batch_alter_table("ops_stock_daily") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
