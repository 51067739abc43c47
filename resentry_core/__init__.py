"""Resentry core."""
