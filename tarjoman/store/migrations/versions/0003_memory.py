"""the translation memory: segment keys, imported memories, fuzzy-match indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Every segment gets its memory key (tarjoman.memory.tm_key), the key's hash (exact matches) and
the hash of its neighbours' keys (in-context matches), computed here for the segments already
stored. Fuzzy matches need a trigram index of the keys: on SQLite an FTS5 ``trigram`` table
over segments.tm_key and tm_units.tm_key (external content, kept in step by triggers), with two
``fts5vocab`` tables beside each: ``row`` (how many keys hold a trigram: rare ones tell sentences
apart) and ``instance`` (which keys hold it: candidates are counted from it); on PostgreSQL
pg_trgm's GIN indexes. None of these are SQLAlchemy models (see models.HAND_MADE).
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_FTS = (("fts_tm_sources", "segments"), ("fts_tm_units", "tm_units"))


def upgrade() -> None:
    with op.batch_alter_table('segments') as batch:
        batch.add_column(sa.Column('tm_key', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('tm_hash', sa.String(length=16), nullable=False, server_default=''))
        batch.add_column(sa.Column('context_hash', sa.String(length=16), nullable=False, server_default=''))
    op.create_index('ix_segments_tm_hash', 'segments', ['tm_hash'], unique=False)
    op.create_table('tm_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('tm_key', sa.Text(), nullable=False),
    sa.Column('tm_hash', sa.String(length=16), nullable=False),
    sa.Column('lang', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_hash', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.Text(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('who', sa.Text(), nullable=False),
    sa.Column('changed', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('imported_by', sa.Text(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tm_hash', 'lang', 'text_hash')
    )
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_segments_tm_key_trgm ON segments USING gin (tm_key gin_trgm_ops)")
        op.execute("CREATE INDEX ix_tm_units_tm_key_trgm ON tm_units USING gin (tm_key gin_trgm_ops)")
    else:
        for fts, table in _FTS:
            _sqlite_index(fts, table)


def _sqlite_index(fts: str, table: str) -> None:
    op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5(tm_key, content='{table}', content_rowid='id', tokenize='trigram')")
    op.execute(f"CREATE VIRTUAL TABLE {fts}_vocab USING fts5vocab({fts}, 'row')")
    op.execute(f"CREATE VIRTUAL TABLE {fts}_instance USING fts5vocab({fts}, 'instance')")
    op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
               f"INSERT INTO {fts}(rowid, tm_key) VALUES (new.id, new.tm_key); END")
    op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, tm_key) VALUES ('delete', old.id, old.tm_key); END")
    op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF tm_key ON {table} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, tm_key) VALUES ('delete', old.id, old.tm_key); "
               f"INSERT INTO {fts}(rowid, tm_key) VALUES (new.id, new.tm_key); END")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _backfill() -> None:
    from tarjoman.memory import keyed

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, chapter_id, source, lang, obsolete FROM segments ORDER BY chapter_id, position, id")).all()
    by_chapter: dict[int, list] = {}
    for row in rows:
        by_chapter.setdefault((row.chapter_id, bool(row.obsolete)), []).append(row)
    updates = []
    for (_, obsolete), chapter in by_chapter.items():
        for row, (key, key_hash, context) in zip(chapter, keyed([(r.source, r.lang) for r in chapter])):
            updates.append({"id": row.id, "k": key, "h": key_hash, "c": "" if obsolete else context})
    if updates:
        bind.execute(sa.text("UPDATE segments SET tm_key = :k, tm_hash = :h, context_hash = :c WHERE id = :id"), updates)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tm_units_tm_key_trgm")
        op.execute("DROP INDEX IF EXISTS ix_segments_tm_key_trgm")
    else:
        for fts, _ in _FTS:
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS {fts}_instance")
            op.execute(f"DROP TABLE IF EXISTS {fts}_vocab")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    op.drop_table('tm_units')
    op.drop_index('ix_segments_tm_hash', table_name='segments')
    with op.batch_alter_table('segments') as batch:
        batch.drop_column('context_hash')
        batch.drop_column('tm_hash')
        batch.drop_column('tm_key')
