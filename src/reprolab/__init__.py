"""reprolab: a reproducible, data-versioned ML experiment repository."""

__version__ = "0.1.0"
