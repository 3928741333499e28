"""Home Board: a family's hallway e-paper board."""

__version__ = "0.1.0"
