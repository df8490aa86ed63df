"""Elastic Load Balancing emulation: the listener data plane (real HTTP on loopback)."""
