"""Connector tests use the session province and ``lake_home`` of ``tests/conftest.py``."""
