"""Every DuckDB connection iochub opens, within the installation's memory budget.

Landing (contract checks, fingerprints), the lake's copies, the GIS layers, the gate and
publish each open DuckDB in their own process; left to its default, each may take 80 % of the
machine's memory (19 GB was measured in one scale-1 process). They all connect here, with
``Settings.duckdb_config()``: ``IOC_DUCKDB_MEMORY``, ``IOC_DUCKDB_THREADS`` and a spill folder
under ``IOC_HOME``; dbt gets the same through ``profiles.yml``. ``ioc doctor`` prints the budget,
and a test fails when runtime code calls ``duckdb.connect`` directly.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from iochub.settings import Settings


def connect_duckdb(
    database: str | Path = ":memory:",
    read_only: bool = False,
    settings: Settings | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (in memory, or to a file) within the memory budget.

    The budget is SET on the connection rather than passed as ``config=``: DuckDB refuses a
    second connection to a file already open in the process with another config (a test's,
    or a library's), while SET changes the one database instance both share.
    """
    con = duckdb.connect(str(database), read_only=read_only)
    for name, value in (settings or Settings.from_env()).duckdb_config().items():
        literal = str(value).replace("'", "''")
        try:
            con.execute(f"set {name} = '{literal}'")
        except duckdb.NotImplementedException:
            # An instance that has spilled refuses any new temporary directory, even the same
            # one: a second connection to a file this process has open keeps the first's.
            if name != "temp_directory":
                raise
    return con
