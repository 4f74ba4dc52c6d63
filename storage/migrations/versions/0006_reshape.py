"""feature packages: the post's author as a column, group settings under feature namespaces

Revision ID: 0006
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None

posts = sa.table(
    "posts", sa.column("id", sa.Integer), sa.column("fields", sa.JSON), sa.column("author_name")
)
groups = sa.table("groups", sa.column("id", sa.String), sa.column("settings", sa.JSON))
# Flat keys of the first version -> (feature namespace, key).
MOVED_SETTINGS = {
    "listing_days": ("posts", "listing_days"),
    "pairs_every_weeks": ("pairs", "every_weeks"),
}


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(
            sa.Column("author_name", sa.String(length=200), nullable=False, server_default="")
        )
    conn = op.get_bind()
    for post_id, fields in conn.execute(sa.select(posts.c.id, posts.c.fields)).all():
        fields = dict(fields or {})
        author = str(fields.pop("_author", ""))
        conn.execute(
            posts.update().where(posts.c.id == post_id).values(fields=fields, author_name=author)
        )
    for group_id, settings in conn.execute(sa.select(groups.c.id, groups.c.settings)).all():
        settings = dict(settings or {})
        for old, (namespace, key) in MOVED_SETTINGS.items():
            if old in settings:
                settings.setdefault(namespace, {})[key] = settings.pop(old)
        conn.execute(groups.update().where(groups.c.id == group_id).values(settings=settings))


def downgrade() -> None:
    conn = op.get_bind()
    for post_id, fields, author in conn.execute(
        sa.select(posts.c.id, posts.c.fields, posts.c.author_name)
    ).all():
        conn.execute(
            posts.update()
            .where(posts.c.id == post_id)
            .values(fields={**(fields or {}), "_author": author})
        )
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("author_name")
