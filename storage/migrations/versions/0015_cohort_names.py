"""cohorts: one name per group, so two renames (or a rename and a new cohort) racing to one
name leave one cohort with it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 05:50:00
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Names were "programme year", clipped at 100 characters: two long programmes could clip to
    # one name. Such a later twin gets its id appended rather than stopping the upgrade.
    op.execute(
        "UPDATE cohorts SET name = SUBSTR(name, 1, 90) || ' #' || CAST(id AS VARCHAR(12))"
        " WHERE id NOT IN (SELECT MIN(id) FROM cohorts GROUP BY group_id, name)"
    )
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_cohorts_group_name", ["group_id", "name"])


def downgrade() -> None:
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_cohorts_group_name", type_="unique")
