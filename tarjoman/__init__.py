"""Tarjoman: Persian memoir manuscripts to reviewed translations and ebooks."""

__version__ = "0.1.0"
