"""The landing contract: every batch of every kind passes here before anything is written.

One vectorised DuckDB query per batch (in memory, on the Arrow data, no copy in) does all of it:
declared renames, Unicode NFC for text, casts to the declared types, per-row checks (required,
type, code list, range, future dates, known admin codes, the table's own row rules), then
pseudonymisation of personal data. Rows that fail keep their raw content (with PII already
treated) and a machine-readable reason for quarantine; column-set drift is decided by the
table's drift policy. DuckDB rather than a Python loop because the ``sql`` kind must keep up with
connectorx (see ``bench/``); its ``sha256`` gives the same HMAC as ``pseudonymise.pseudonym``.
"""

from __future__ import annotations

import csv
import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from connectors.pseudonymise import WHITESPACE
from connectors.registry import (
    ColumnSpec,
    ColumnType,
    DriftAction,
    PiiTreatment,
    RegistryError,
    Source,
    TableSpec,
)
from iochub.duckdb_connect import connect_duckdb

SYSTEM_PREFIX = "_"  # lineage columns added by the kinds (_source_file, _run_id, …)
_ADMIN_SEEDS = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "admin"

DUCK_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.DECIMAL: "DOUBLE",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
}


class SchemaDriftError(Exception):
    """A batch's columns broke the contract under a ``fail`` drift policy."""


class DeclarationError(RegistryError):
    """A table's declaration cannot be applied to any batch (a row rule naming a column that is
    neither declared nor a lineage column, a rule that is not SQL): the registry is at fault,
    not the data."""


@dataclass
class RejectedRow:
    item: str  # where the row came from: source file (if any) and its primary-key values
    reason: str
    detail: str
    raw: bytes  # the row as JSON, PII already treated


@dataclass
class ContractResult:
    clean: pa.Table
    rejected: list[RejectedRow] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    drift_rejected: str | None = None  # reason when the whole batch was quarantined for drift


@cache
def admin_codes() -> frozenset[str]:
    """Every commune, district and province code of Vietnam in both structures (pre- and
    post-July 2025): a patient from Hồ Chí Minh City has a valid residence code, unknown to our
    province's seeds. From the ``vietnamadminunits`` package (MIT), plus the seeds (which carry
    the province's corrections)."""
    from vietnamadminunits.database import query

    codes: set[str] = set()
    for row in query("select provinceCode, wardCode from admin_units"):
        codes.update(row.values())
    for row in query("select provinceCode, districtCode, wardCode from admin_units_legacy"):
        codes.update(row.values())
    for name in ("admin_unit_2025.csv", "admin_unit_legacy.csv"):
        with (_ADMIN_SEEDS / name).open(encoding="utf-8") as handle:
            for seed in csv.DictReader(handle):
                codes.update(
                    seed[c] for c in ("commune_code", "district_code", "province_code") if c in seed
                )
    return frozenset(c for c in codes if c)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def code_key(value: str, case_sensitive: bool = False) -> str:
    """How a code-list value is compared: NFC, trimmed, inner whitespace as one space, and
    case-folded unless the column is case-sensitive. Lower case, not ``str.casefold``: it is what
    DuckDB's ``lower`` does in the SQL twin below, and the two differ only on letters no
    Vietnamese code uses (ß, final sigma)."""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    return text if case_sensitive else text.lower()


def _code_expr(text: str, spec: ColumnSpec) -> str:
    """SQL landing the listed spelling of a code sent in another case, form or alias
    ('có' → 'Có', 'THCS' → 'Trung học cơ sở'); other values pass unchanged, for the code-list
    check to reject."""
    if spec.codes is None:
        return text
    spellings = {code_key(code, spec.case_sensitive): code for code in spec.codes}
    spellings |= {code_key(k, spec.case_sensitive): v for k, v in spec.aliases.items()}
    key = f"regexp_replace(trim({text}), '\\s+', ' ', 'g')"
    if not spec.case_sensitive:
        key = f"lower({key})"
    cases = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in spellings.items())
    return f"CASE {key} {cases} ELSE {text} END"


def _cast_expr(column: str, spec: ColumnSpec, arrow_type: pa.DataType) -> str:
    """SQL turning the incoming column into the declared type; NULL where it cannot."""
    col = _q(column)
    target = DUCK_TYPES[spec.type]
    if not pa.types.is_string(arrow_type) and not pa.types.is_large_string(arrow_type):
        if spec.type is ColumnType.STRING:
            return _code_expr(f"TRY_CAST({col} AS VARCHAR)", spec)
        return f"TRY_CAST({col} AS {target})"
    text = f"NULLIF(TRIM({col}), '')"
    if spec.type is ColumnType.STRING:
        return _code_expr(f"nfc_normalize({text})", spec)
    if spec.type is ColumnType.INTEGER:
        # Vietnamese reports write thousands with dots ("1.234"); Excel exports with commas.
        return (
            f"CASE WHEN regexp_matches({text}, '^[-+]?\\d{{1,3}}([.,]\\d{{3}})+$') "
            f"THEN TRY_CAST(regexp_replace({text}, '[.,]', '', 'g') AS BIGINT) "
            f"ELSE TRY_CAST({text} AS BIGINT) END"
        )
    if spec.type is ColumnType.DECIMAL:
        return (
            # A decimal comma means Vietnamese notation: dots group thousands ("1.234,5").
            f"CASE WHEN regexp_matches({text}, '^[-+]?\\d{{1,3}}(\\.\\d{{3}})*,\\d+$') "
            f"THEN TRY_CAST(replace(replace({text}, '.', ''), ',', '.') AS DOUBLE) "
            f"ELSE TRY_CAST({text} AS DOUBLE) END"
        )
    if spec.type is ColumnType.BOOLEAN:
        return (
            f"CASE lower({text}) WHEN 'true' THEN true WHEN '1' THEN true WHEN 'yes' THEN true "
            f"WHEN 'có' THEN true WHEN 'false' THEN false WHEN '0' THEN false "
            f"WHEN 'no' THEN false WHEN 'không' THEN false END"
        )
    if spec.format:
        parsed = f"try_strptime({text}, {_lit(spec.format)})"
        return f"CAST({parsed} AS {target})" if spec.type is ColumnType.DATE else parsed
    return f"TRY_CAST({text} AS {target})"


def _pii_expr(value: str, treatment: PiiTreatment, is_text: bool) -> str:
    """SQL pseudonymising the SQL expression ``value`` (a column or its raw text)."""
    text = f"NULLIF(trim(CAST({value} AS VARCHAR), $whitespace), '')"
    if treatment is PiiTreatment.HMAC:
        # HMAC-SHA256 = H(k ^ opad || H(k ^ ipad || m)), the pads passed as parameters.
        return f"sha256($opad || unhex(sha256($ipad || encode({text}))))"
    if treatment is PiiTreatment.YEAR:
        return f"LEFT({text}, 4)" if is_text else f"CAST(year({value}) AS VARCHAR)"
    raise AssertionError(treatment)


def _pads(key: bytes) -> dict[str, bytes]:
    """HMAC's inner and outer key blocks (RFC 2104): a key longer than SHA-256's 64-byte block
    is hashed first, a shorter one padded with zeros."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return {
        "ipad": bytes(b ^ 0x36 for b in block),
        "opad": bytes(b ^ 0x5C for b in block),
    }


def _is_text(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type))


def _column_checks(
    name: str, spec: ColumnSpec, table: TableSpec, flag: str
) -> list[tuple[str, str]]:
    """(failure condition over the typed column and its presence flag, reason) pairs."""
    col = _q(name)
    checks = []
    if spec.required or name in table.required:
        checks.append((f"NOT {flag}", "missing_required"))
    checks.append((f"{flag} AND {col} IS NULL", "bad_type"))
    if spec.codes is not None:
        codes = ", ".join(_lit(c) for c in spec.codes)
        checks.append((f"CAST({col} AS VARCHAR) NOT IN ({codes})", "not_in_code_list"))
    if spec.min is not None:
        checks.append((f"{col} < {spec.min}", "out_of_range"))
    if spec.max is not None:
        checks.append((f"{col} > {spec.max}", "out_of_range"))
    if spec.type in (ColumnType.DATE, ColumnType.TIMESTAMP) and not spec.future:
        checks.append((f"CAST({col} AS DATE) > $today", "future_date"))
    if spec.admin_code:
        checks.append(
            (
                f"CAST({col} AS VARCHAR) NOT IN (SELECT code FROM __admin_codes)",
                "unknown_admin_code",
            )
        )
    return checks


def apply_contract(
    spec: TableSpec, batch: pa.Table, key: bytes, today: date | None = None
) -> ContractResult:
    """Split ``batch`` into clean typed rows and rejected rows; decide drift by policy."""
    renamed = {old: new for old, new in spec.renames().items() if old in batch.column_names}
    for old_name, new_name in renamed.items():
        # A batch gathered from files of both versions carries both names: one column.
        values = batch.column(old_name)
        if new_name in batch.column_names:
            values = pc.coalesce(batch.column(new_name), values)
            batch = batch.drop_columns([new_name])
        index = batch.column_names.index(old_name)
        batch = batch.set_column(index, new_name, values)
    present = [n for n in batch.column_names if not n.startswith(SYSTEM_PREFIX)]
    added = [n for n in present if spec.columns and n not in spec.columns and n not in spec.pii]
    # Only required columns can go missing: optional ones are absent in older variants of a
    # format (a 4750 XML 130 file has no 3176 fields) and land as NULL downstream.
    required = set(spec.required_columns())
    missing = [n for n in spec.columns if n not in batch.column_names and n in required]
    result = ContractResult(
        clean=batch, added_columns=added, missing_columns=missing, renamed=renamed
    )
    for columns, action, what in (
        (added, spec.drift.added, "column(s) not in the contract"),
        (missing, spec.drift.removed, "declared column(s) missing"),
    ):
        if columns and action is not DriftAction.EVOLVE:
            reason = f"{what}: {', '.join(columns)}"
            if action is DriftAction.FAIL:
                raise SchemaDriftError(f"{spec.name}: {reason}")
            result.drift_rejected = reason
    # Every declared column is in what lands, NULL where the batch lacked it: the table's row
    # rules and dbt staging refer to optional columns a file may omit (a 3176 XML 130 file
    # without T_BNCCT is valid), and must not depend on which files shared the batch.
    supplied = [
        name
        for name in dict.fromkeys([*spec.columns, *spec.pii, *spec.required])
        if name not in batch.column_names and spec.pii.get(name) is not PiiTreatment.DROP
    ]
    for name in supplied:
        batch = batch.append_column(name, pa.nulls(batch.num_rows, pa.string()))

    # Stage 1: typed columns, and for checked ones whether the source sent a value at all.
    types = {f.name: f.type for f in batch.schema}
    typed: list[str] = []
    conditions: list[tuple[str, str, str]] = []  # (failure condition, reason, column)
    for index, name in enumerate(batch.column_names):
        column_spec = spec.columns.get(name)
        flag = f"__present_{index}"
        sent = (
            f"NULLIF(TRIM({_q(name)}), '') IS NOT NULL"
            if _is_text(types[name])
            else f"{_q(name)} IS NOT NULL"
        )
        if column_spec is None:
            value = f"nfc_normalize({_q(name)})" if _is_text(types[name]) else _q(name)
            typed.append(f"{value} AS {_q(name)}")
            if name in spec.required:
                typed.append(f"{sent} AS {flag}")
                conditions.append((f"NOT {flag}", "missing_required", name))
            continue
        typed.append(f"{sent} AS {flag}")
        typed.append(f"{_cast_expr(name, column_spec, types[name])} AS {_q(name)}")
        conditions += [
            (cond, reason, name) for cond, reason in _column_checks(name, column_spec, spec, flag)
        ]
    for check in spec.checks:
        conditions.append((f"NOT COALESCE(({check.rule}), true)", check.reason, check.rule))

    # Stage 2: the first failing condition is the reason; the detail lists every failure.
    cases = " ".join(f"WHEN COALESCE({c}, false) THEN {_lit(r)}" for c, r, _ in conditions)
    reason_sql = f"CASE {cases} END" if conditions else "CAST(NULL AS VARCHAR)"
    details = ", ".join(
        f"CASE WHEN COALESCE({c}, false) THEN {_lit(f'{r}: {col}')} END" for c, r, col in conditions
    )
    detail_sql = f"concat_ws('; ', {details})" if conditions else "''"

    # Stage 3: personal data treated in clean rows and in what quarantine keeps alike.
    hashed_in_sql = {
        name
        for name, treatment in spec.pii.items()
        if treatment is PiiTreatment.HMAC
        and name in batch.column_names
        and _mostly_distinct(batch.column(name))
    }
    treated: list[str] = []
    for name in batch.column_names:
        treatment = spec.pii.get(name)
        if treatment is PiiTreatment.DROP:
            continue
        if treatment is None:
            treated.append(_q(name))
            continue
        if treatment is PiiTreatment.HMAC and name not in hashed_in_sql:
            treated.append(_q(name))  # pseudonymised below, in Python, once per distinct value
            continue
        is_text = name not in spec.columns or spec.columns[name].type is ColumnType.STRING
        treated.append(f"{_pii_expr(_q(name), treatment, is_text)} AS {_q(name)}")
    # Quarantine keeps what the source sent (as text), with personal data treated the same way.
    # Built for the rejected rows only: most batches have none, and text copies of every
    # column of a large clean batch would cost more than the checks themselves.
    raws = [f"CAST({_q(n)} AS VARCHAR) AS __raw_{i}" for i, n in enumerate(batch.column_names)]
    raw_fields = []
    for index, name in enumerate(batch.column_names):
        treatment = spec.pii.get(name)
        if treatment is PiiTreatment.DROP or name in supplied:
            continue
        raw = f"__raw_{index}"
        value = raw if treatment is None else _pii_expr(raw, treatment, True)
        raw_fields.append(f"{_q(name)} := {value}")
    raw_json = f"to_json(struct_pack({', '.join(raw_fields)}))"
    position = {name: index for index, name in enumerate(batch.column_names)}
    key_parts = [
        f"COALESCE(__raw_{position[k]}, '')" if spec.pii.get(k) is None else "'*'"
        for k in spec.primary_key
        if k in position
    ]
    item_sql = "'key=' || " + (f"concat_ws('|', {', '.join(key_parts)})" if key_parts else "''")
    if "_source_file" in position:
        item_sql = f"concat_ws(' ', __raw_{position['_source_file']}, {item_sql})"
    params: dict[str, object] = {
        **_pads(key),
        "today": today or date.today(),
        "whitespace": WHITESPACE,
    }
    con = connect_duckdb()
    try:
        con.register("batch", batch.append_column("__row", pa.array(range(batch.num_rows))))
        if "__admin_codes" in reason_sql:
            con.register("__admin_codes", _admin_codes_table())
        # Checked once into a temporary table; clean and rejected rows are split from it.
        check_sql = (
            f"CREATE TEMP TABLE checked AS SELECT * EXCLUDE ({_flags(typed)}), "
            f"{reason_sql} AS __reason FROM (SELECT __row, {', '.join(typed)} FROM batch)"
            if _flags(typed)
            else f"CREATE TEMP TABLE checked AS SELECT __row, {', '.join(typed)}, "
            f"{reason_sql} AS __reason FROM batch"
        )
        try:
            con.execute(check_sql, _used(check_sql, params))
        except duckdb.Error as exc:
            # Every declared column is present by now and every cast is a TRY_CAST: a rule
            # naming another column, or raising on a value (CAST where TRY_CAST is meant), is
            # the declaration's fault. Nothing is committed; the run is retried once it is fixed.
            raise DeclarationError(
                f"table {spec.name}: its row rules or column declarations do not apply: "
                f"{str(exc).splitlines()[0]}. A rule may name declared columns and the lineage "
                "columns of its kind only, and must not raise on any value (TRY_CAST, not "
                "CAST); fix the source's YAML and check it with `ioc sources validate`."
            ) from exc
        keep = "false" if result.drift_rejected else "__reason IS NULL"
        clean_sql = f"SELECT {', '.join(treated)} FROM checked WHERE {keep} ORDER BY __row"
        clean = con.execute(clean_sql, _used(clean_sql, params)).to_arrow_table()
        result.clean = _hmac_columns(clean, spec, key, skip=hashed_in_sql)
        bad_rows = f"SELECT __row FROM checked WHERE NOT ({keep})"
        if con.execute(f"SELECT count(*) FROM ({bad_rows})").fetchone() != (0,):
            bad_sql = (
                f"WITH typed AS (SELECT __row, {', '.join(typed)}, {', '.join(raws)} "
                f"FROM batch WHERE __row IN ({bad_rows})) "
                f"SELECT {item_sql}, {reason_sql}, {detail_sql}, {raw_json} "
                "FROM typed ORDER BY __row"
            )
            rejected = con.execute(bad_sql, _used(bad_sql, params)).fetchall()
        else:
            rejected = []
    finally:
        con.close()
    for item, reason, detail, raw in rejected:
        if result.drift_rejected:
            reason, detail = "schema_drift", result.drift_rejected
        result.rejected.append(RejectedRow(item, reason, detail or "", str(raw).encode()))
    return result


def check_declaration(source: Source, lineage: list[str]) -> None:
    """Apply every table's contract to an empty batch of its declared and ``lineage`` columns:
    raises ``DeclarationError`` for a rule that could never run on real data."""
    for table in source.tables:
        names = dict.fromkeys([*table.columns, *table.pii, *table.required, *lineage])
        empty = pa.table({name: pa.array([], pa.string()) for name in names})
        apply_contract(table, empty, b"check")


@cache
def _admin_codes_table() -> pa.Table:
    return pa.table({"code": sorted(admin_codes())})


def _mostly_distinct(column: pa.ChunkedArray) -> bool:
    """Whether most values differ (citizen ids): then hashing every row in SQL, on every core,
    beats hashing each distinct value in Python; names and codes repeat, and go to Python."""
    return len(column) > 0 and pc.count_distinct(column).as_py() > len(column) // 2


def _hmac_columns(table: pa.Table, spec: TableSpec, key: bytes, skip: set[str]) -> pa.Table:
    """Replace each repetitive HMAC column by its pseudonyms, one HMAC per distinct value.

    Python's hashlib from precomputed pad states is faster per value than SQL (the key's pad
    blocks are hashed once, not per value), and names and codes repeat a lot within a batch.
    Equal to ``connectors.pseudonymise.pseudonym`` and to ``_pii_expr`` (used for quarantine
    and for mostly-distinct columns, already hashed in SQL).
    """
    pads = _pads(key)
    inner, outer = hashlib.sha256(pads["ipad"]), hashlib.sha256(pads["opad"])
    for name, treatment in spec.pii.items():
        if treatment is not PiiTreatment.HMAC or name not in table.column_names or name in skip:
            continue
        text = pc.utf8_trim(pc.cast(table.column(name), pa.string()), characters=WHITESPACE)
        encoded = pc.dictionary_encode(pc.if_else(pc.equal(text, ""), None, text)).combine_chunks()
        digests = []
        for value in encoded.dictionary.to_pylist():
            digest = inner.copy()
            digest.update(value.encode("utf-8"))
            final = outer.copy()
            final.update(digest.digest())
            digests.append(final.hexdigest())
        hashed = pc.take(pa.array(digests, pa.string()), encoded.indices)
        table = table.set_column(table.column_names.index(name), name, hashed)
    return table


def _flags(typed: list[str]) -> str:
    """The presence-flag columns of the typed select, to leave out of the stored result."""
    return ", ".join(expr.rsplit(" AS ", 1)[1] for expr in typed if " AS __present_" in expr)


def _used(sql: str, params: dict[str, object]) -> dict[str, object]:
    """DuckDB refuses named parameters a query does not use."""
    return {name: value for name, value in params.items() if f"${name}" in sql}
