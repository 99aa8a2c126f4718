"""A PostgreSQL database of a test's own on the shared server (127.0.0.1:5432), dropped after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """Create ``name`` afresh (dropping a leftover of a killed run), yield it, drop it."""
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as pg:
        pg.execute(f'drop database if exists "{name}" with (force)')
        pg.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as pg:
            pg.execute(f'drop database if exists "{name}" with (force)')
