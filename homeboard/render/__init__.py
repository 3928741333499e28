"""Rendering: BoardState + panel -> a three-colour image (pure)."""

from homeboard.render.layout import render

__all__ = ["render"]
