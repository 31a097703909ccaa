"""Helpers shared by several test modules, one module per topic, so that no test module imports
another one or a conftest (pytest's fixtures stay in the conftest files)."""
