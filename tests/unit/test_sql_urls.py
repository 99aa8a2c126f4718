"""Connection values of the ``sql`` kind: every spelling a data engineer may paste.

SQLAlchemy (and ``ioc sources new --from-db``) writes an absolute SQLite path with four slashes,
connectorx and the registry's ``{sim}`` placeholder with three, and a bare path is a file; all
must open the same file. A mistyped scheme is refused with the schemes that work.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from connectors.kinds.sql import SourceUnavailable, parse_database, probe, sqlite_path


# {path} is absolute: "sqlite://{path}" has three slashes, "sqlite:///{path}" four.
@pytest.mark.parametrize("form", ["sqlite://{path}", "sqlite:///{path}", "{path}", "file://{path}"])
def test_every_sqlite_spelling_opens_the_file(tmp_path: Path, form: str) -> None:
    path = tmp_path / "dk01.sqlite"
    with sqlite3.connect(path) as lite:
        lite.execute("create table t (x integer)")
    lite.close()
    database = parse_database(form.format(path=path))
    assert database.dialect == "sqlite"
    assert sqlite_path(database) == path
    assert probe(database) is None


def test_mariadb_is_read_as_mysql_and_unknown_schemes_are_refused() -> None:
    assert parse_database("mariadb://root@127.0.0.1:3306/x").url == "mysql://root@127.0.0.1:3306/x"
    with pytest.raises(SourceUnavailable, match="postgresql://, mysql://"):
        parse_database("oracle://scott@db/orcl")
