"""The web desk: translators, editors and publishers working in the browser over the review store.

``tarjoman serve`` runs :func:`create_app` with uvicorn. See :mod:`tarjoman.desk.app`.
"""

from .app import create_app

__all__ = ["create_app"]
