"""Storage backends (private; names are re-exported from ``resentry_core``)."""
