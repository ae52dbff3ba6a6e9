"""Prefect flows: thin orchestration over the tarjoman core library, one module per stage."""

import os

# STACK.md: the embedded server's analytics write to its database and log a harmless
# "database is locked" traceback; nobody needs them.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
