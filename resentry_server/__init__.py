"""Resentry server (work in progress)."""
