"""Notifications: the Notifier interface, the built-in channels and their delivery."""
