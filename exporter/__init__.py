"""Prometheus exporter for 8x8 Work Analytics and Contact Center analytics."""

__version__ = "0.1.0"
