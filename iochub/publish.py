"""Publish: the gated build warehouse becomes the serving warehouse in one atomic step.

The published schemas (``marts``, ``meta``, ``reference``, and ``geo``: the map layers) go from
``build.duckdb`` into a new file beside ``serving.duckdb``, which then replaces it with
``os.replace``. Readers (Superset, read-only, one connection per query) see either the old file
or the new one, never a half-written one or a mix: a reader that opened the old file keeps its
inode, which nothing writes to. Staging views, which point into the lake, never reach the
serving side. The caller publishes only a build that passed the gate.

At the province's size the serving file is several GB and a new day changes only some tables, so
the new file starts as a copy of the previous serving file and only what changed is rewritten:

- The OS copy (``copy_file_range``: a reflink, i.e. nearly free, on filesystems that share
  blocks such as XFS or btrfs; elsewhere an in-kernel copy at disk speed) costs far less than
  DuckDB re-reading, re-compressing and writing every table.
- A table is unchanged when its columns (names and types, in order) and its fingerprint, the row
  count and the sum of every row's ``hash`` (order-free; a sum rather than an XOR so duplicate
  rows do not cancel), are the same in the build and in the copy. Both sides are computed at
  each publish rather than stored: a scan that hashes is a fraction of a rewrite, nothing can
  go stale, and no extra table appears in serving (the gate's inventory would count it as a
  published table, and Superset would list it). ``hash`` equates ``0.0`` and ``-0.0``; such a
  change alone is not republished.
- Tables gone from the build, and the old versions of changed ones, are dropped and checkpointed
  before the changed ones are written, so the new data reuses their blocks and the file does not
  grow by the changed tables at each publish.
- The file never shrinks by itself (except free blocks at its end), and every publish copies its
  free blocks too. When more than ``COMPACT_ABOVE`` of the previous serving file is free (it is
  over twice its data, after tables were dropped or shrank), the publish is a full copy instead,
  which writes a compact file. The check is made on the previous file, before the pass, so a
  publish never does both; the file it leaves is at most one publish's changes too large.
- Until a compaction, free blocks may still hold rows of tables since replaced (pseudonymised
  marts, as everywhere in the warehouse), which a full copy would not carry over.

A full copy (every table from the build into an empty file) is also made at the first publish
and when the previous serving file cannot be opened.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from iochub.duckdb_connect import connect_duckdb

log = logging.getLogger(__name__)

PUBLISHED_SCHEMAS = ("marts", "meta", "reference", "geo")
# Half: below it the free blocks are at most the file's data again, which the next publishes'
# replacements reuse; above it a full copy (one rewrite) halves what every later copy moves.
COMPACT_ABOVE = 0.5

Columns = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Published:
    """What a publish did. ``counts``: rows of every published table (``schema.table``);
    ``copied``: tables written from the build; ``kept``: tables unchanged since the last publish,
    kept from it; ``dropped``: tables gone from the build, removed; ``full_copy``: why every table
    was copied (``first publish``, ``compaction``, ``previous serving file unreadable``), or None
    when only the changes were."""

    counts: dict[str, int]
    copied: tuple[str, ...]
    kept: tuple[str, ...]
    dropped: tuple[str, ...]
    full_copy: str | None


def publish(build_db: Path, serving_db: Path) -> dict[str, int]:
    """Publish ``build_db``'s published schemas as ``serving_db`` atomically; the row count of
    each published table."""
    return publish_changes(build_db, serving_db).counts


def publish_changes(build_db: Path, serving_db: Path) -> Published:
    """Publish ``build_db``'s published schemas as ``serving_db`` atomically, rewriting only the
    tables that changed since the last publish (see the module's docstring)."""
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    tmp = serving_db.with_name(f".{serving_db.stem}.{uuid.uuid4().hex}.duckdb")
    try:
        result = _incremental(build_db, serving_db, tmp)
        if isinstance(result, str):
            _remove(tmp)
            result = _full(build_db, tmp, result)
        os.replace(tmp, serving_db)
    finally:
        _remove(tmp)
    if result.full_copy:
        log.info(
            "published %d tables to %s: full copy (%s)",
            len(result.counts),
            serving_db,
            result.full_copy,
        )
    else:
        log.info(
            "published %d tables to %s: copied %d %s, kept %d, dropped %d %s",
            len(result.counts),
            serving_db,
            len(result.copied),
            list(result.copied),
            len(result.kept),
            len(result.dropped),
            list(result.dropped),
        )
    return result


def _incremental(build_db: Path, serving_db: Path, tmp: Path) -> Published | str:
    """The previous serving file, copied to ``tmp``, brought up to ``build_db``; or why a full
    copy is due instead."""
    if not serving_db.exists():
        return "first publish"
    _clone(serving_db, tmp)
    try:
        con = connect_duckdb(tmp)
    except duckdb.Error as err:
        log.warning("previous serving file %s unreadable (%s): full copy", serving_db, err)
        return "previous serving file unreadable"
    with con:
        free, total, here = con.execute(
            "select free_blocks, total_blocks, database_name from pragma_database_size() "
            "where database_name = current_database()"
        ).fetchall()[0]
        if total and free / total > COMPACT_ABOVE:
            return "compaction"
        _attach_build(con, build_db)
        wanted = _tables(con, "build")
        present = _tables(con, here)
        dropped = sorted(present.keys() - wanted.keys())
        counts: dict[str, int] = {}
        copied = []
        for name, columns in wanted.items():
            if present.get(name) == columns:
                build_print = _fingerprint(con, f"build.{_sql(name)}")
                if build_print == _fingerprint(con, _sql(name)):
                    counts[name] = build_print[0]
                    continue
            copied.append(name)
        for name in [*dropped, *(n for n in copied if n in present)]:
            con.execute(f"drop table {_sql(name)}")
        # Dropped blocks become free at a checkpoint: the copies below then reuse them.
        con.execute("checkpoint")
        for name in copied:
            counts[name] = _copy(con, name)
        for (schema,) in con.execute(
            "select schema_name from duckdb_schemas() where database_name = ? and not internal "
            "and schema_name <> 'main' and schema_name not in "
            "(select schema_name from duckdb_tables() where database_name = ?)",
            [here, here],
        ).fetchall():
            con.execute(f"drop schema {_quote(schema)}")
        con.execute("detach build")
        con.execute("checkpoint")
    return Published(
        counts=dict(sorted(counts.items())),
        copied=tuple(copied),
        kept=tuple(sorted(counts.keys() - set(copied))),
        dropped=tuple(dropped),
        full_copy=None,
    )


def changed_tables(build_db: Path, serving_db: Path) -> set[str] | None:
    """The published tables of ``build_db`` (``schema.table``) that are new or differ from
    ``serving_db``'s, in columns or rows, by the fingerprints publish compares; None when there is
    no serving file to compare with. What the gate must validate: the rest was validated when it
    was published."""
    if not serving_db.exists():
        return None
    with connect_duckdb() as con:
        _attach_build(con, build_db)
        literal = str(serving_db).replace("'", "''")
        con.execute(f"attach '{literal}' as serving (read_only)")
        wanted = _tables(con, "build")
        present = _tables(con, "serving")
        return {
            name
            for name, columns in wanted.items()
            if present.get(name) != columns
            or _fingerprint(con, f"build.{_sql(name)}")
            != _fingerprint(con, f"serving.{_sql(name)}")
        }


def _full(build_db: Path, tmp: Path, reason: str) -> Published:
    """Every published table of ``build_db`` into a new, empty ``tmp``."""
    with connect_duckdb(tmp) as con:
        _attach_build(con, build_db)
        counts = {name: _copy(con, name) for name in _tables(con, "build")}
        con.execute("detach build")
        con.execute("checkpoint")
    return Published(counts=counts, copied=tuple(counts), kept=(), dropped=(), full_copy=reason)


def _attach_build(con: duckdb.DuckDBPyConnection, build_db: Path) -> None:
    literal = str(build_db).replace("'", "''")
    con.execute(f"attach '{literal}' as build (read_only)")
    if not _tables(con, "build"):
        raise RuntimeError(f"{build_db} has no published tables: run the build first")


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, Columns]:
    """The tables of ``database`` (``schema.table``) with their columns: the build's published
    schemas only; every schema of the serving side, since whatever of it is not in the build
    goes."""
    schemas = ", ".join(f"'{s}'" for s in PUBLISHED_SCHEMAS)
    rows = con.execute(
        "select t.schema_name || '.' || t.table_name, "
        "list((c.column_name, c.data_type) order by c.column_index) "
        "from duckdb_tables() t join duckdb_columns() c "
        "using (database_name, schema_name, table_name) "
        "where t.database_name = ? "
        f"and (t.database_name <> 'build' or t.schema_name in ({schemas})) "
        "group by all order by 1",
        [database],
    ).fetchall()
    return {name: tuple((str(c[0]), str(c[1])) for c in columns) for name, columns in rows}


def _fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """Rows and the sum of the rows' hashes (``*columns(*)``, not the row alias, which a column
    of the same name would shadow)."""
    row = con.execute(f"select count(*), coalesce(sum(hash(*columns(*))), 0) from {table}")
    count, digest = row.fetchall()[0]
    return int(count), int(digest)


def _copy(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """Table ``name`` from the attached build into the same name here; its row count."""
    con.execute(f"create schema if not exists {_quote(name.split('.', 1)[0])}")
    con.execute(f"create table {_sql(name)} as select * from build.{_sql(name)}")
    return int(con.execute(f"select count(*) from {_sql(name)}").fetchall()[0][0])


def _sql(name: str) -> str:
    """``schema.table`` quoted for SQL (schema names hold no dot)."""
    schema, table = name.split(".", 1)
    return f"{_quote(schema)}.{_quote(table)}"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _clone(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` in the kernel: ``copy_file_range`` shares the blocks where
    the filesystem can (reflink) and otherwise copies without the bytes passing through Python;
    ``shutil.copyfile`` where it is refused (older kernels, some filesystems, not Linux)."""
    try:
        with source.open("rb") as src, target.open("wb") as dst:
            remaining = os.fstat(src.fileno()).st_size
            while remaining > 0:
                done = os.copy_file_range(src.fileno(), dst.fileno(), remaining)
                if done == 0:
                    raise OSError(f"{source} ended early")
                remaining -= done
    except (OSError, AttributeError):
        shutil.copyfile(source, target)


def _remove(path: Path) -> None:
    """A temporary database and the write-ahead log an interrupted publish may leave beside it."""
    path.unlink(missing_ok=True)
    path.with_name(f"{path.name}.wal").unlink(missing_ok=True)
