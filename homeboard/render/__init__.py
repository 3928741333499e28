"""Rendering: BoardState + panel -> a three-colour image (pure)."""

from homeboard.render.layout import PanelSize, render

__all__ = ["PanelSize", "render"]
