"""Prefect flows: thin orchestration over the tarjoman core library, one module per stage."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

# STACK.md: the embedded server's analytics write to its database and log a harmless
# "database is locked" traceback; nobody needs them.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@contextmanager
def embedded_settings() -> Iterator[None]:
    """Settings for a run on Prefect's embedded server (no PREFECT_API_URL): no flow-run heartbeats.

    Heartbeats let a server notice a crashed run on a worker; the embedded server dies with
    the process, so they serve nobody there. In Prefect 3.8.8 each one also costs a flow run
    about a second at exit (the heartbeat thread sleeps in one-second steps and is joined),
    five seconds for the pipeline and its four sub-flows.
    """
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    # Prefect waits 20 s for its temporary server, which imports all of Prefect and migrates its
    # database first: not enough on a loaded 2-core machine, or the first run after an install.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
