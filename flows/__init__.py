"""Prefect flows: thin orchestration over the tarjoman core library, one module per stage."""
