"""Loaded at start-up by every Python process whose PYTHONPATH holds this folder: arm the socket guard."""
import shipline_socket_guard  # noqa: F401  (installs itself when SHIPLINE_SOCKET_GUARD_LOG is set)
