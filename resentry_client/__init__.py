"""Resentry client: a typed httpx SDK for the Resentry management API (not yet written)."""

__all__: list[str] = []
