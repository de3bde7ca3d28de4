"""The package version (kept in one place, read by pyproject through setuptools)."""

__version__ = "0.1.0"
