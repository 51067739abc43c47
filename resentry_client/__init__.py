"""Resentry client (work in progress)."""
