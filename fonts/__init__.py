"""Bundled fonts and icon glyphs (package data, found via importlib.resources)."""
