"""The throwaway PostgreSQL cluster (tests/pg_cluster.py) that the store tests run against."""

from __future__ import annotations

import os
import socket
import tempfile
import time

import pytest
import sqlalchemy as sa

from pg_cluster import MISSING, PostgresCluster, create_database, find_pg_bin, skip_or_fail
from pg_cluster import postgres_cluster  # noqa: F401  (registers the session fixture, as conftest will)


def test_the_session_cluster_runs_as_its_own_superuser(postgres_cluster):
    os.kill(postgres_cluster.pid, 0)  # raises if there is no such process
    assert postgres_cluster.url == f"postgresql+psycopg://tarjoman@127.0.0.1:{postgres_cluster.port}/tarjoman_test"
    engine = sa.create_engine(postgres_cluster.url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT current_user, current_database(), pg_backend_pid() <> :pid, "
                                   "current_setting('server_encoding'), current_setting('listen_addresses')"),
                           {"pid": postgres_cluster.pid}).one()
    engine.dispose()
    assert tuple(row) == ("tarjoman", "tarjoman_test", True, "UTF8", "127.0.0.1")


def test_sqlalchemy_round_trips_persian_text(postgres_cluster):
    engine = sa.create_engine(postgres_cluster.url)
    places = sa.Table("places", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("name", sa.Text, nullable=False))
    places.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(places.insert(), [{"name": "خرمشهر"}, {"name": "آبادان"}])
    with engine.connect() as conn:
        names = conn.execute(sa.select(places.c.name).order_by(places.c.id)).scalars().all()
        # Counted in characters, not bytes: the server really holds UTF-8 text.
        assert conn.execute(sa.select(sa.func.length(places.c.name)).where(places.c.id == 1)).scalar() == 6
    places.metadata.drop_all(engine)
    engine.dispose()
    assert names == ["خرمشهر", "آبادان"]


def test_create_database_gives_independent_empty_databases(postgres_cluster):
    first, second = create_database(postgres_cluster, "first_db"), create_database(postgres_cluster, "second_db")
    assert first.endswith("/first_db") and second.endswith("/second_db")
    engines = [sa.create_engine(first), sa.create_engine(second)]
    with engines[0].begin() as conn:
        conn.execute(sa.text("CREATE TABLE only_here (x int)"))
    assert sa.inspect(engines[0]).get_table_names() == ["only_here"]
    assert sa.inspect(engines[1]).get_table_names() == []
    for engine in engines:
        engine.dispose()


def test_stop_ends_the_server_even_with_a_client_connected():
    if find_pg_bin() is None:
        skip_or_fail(MISSING)
    # Its own cluster, so that the session's stays up for the other tests.
    with tempfile.TemporaryDirectory(prefix="tarjoman-pg-") as tmp:
        cluster = PostgresCluster(tmp).start()
        pid, port = cluster.pid, cluster.port
        engine = sa.create_engine(cluster.url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))  # back in the pool, still connected
        began = time.monotonic()
        cluster.stop()
        assert time.monotonic() - began < 5  # a fast shutdown, not the 10 s wait and SIGKILL
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
        cluster.stop()  # a second stop is harmless
        engine.dispose()


def test_missing_postgres_skips_locally_but_fails_on_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        skip_or_fail("no PostgreSQL")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        skip_or_fail("no PostgreSQL")
