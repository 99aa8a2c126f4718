"""The simulator's two logs of what it did: injected defects and the ground truth of each KPI.

Both are written as Parquet under the simulation folder (``defects.parquet``,
``ground_truth.parquet``). Defects stream out in batches as they are injected; ground truth is
accumulated as integer numerators and denominators per KPI × admin unit × month while records are
written, so it comes from the generated records themselves, not from sampling rates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DEFECT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("record_key", pa.string()),
        ("kind", pa.string()),
        ("detail", pa.string()),
        ("day", pa.date32()),
    ]
)

# Kinds of defect the simulator injects (issue: demo province, "Defects").
DEFECT_KINDS = frozenset(
    {
        "malformed_xml",
        "invalid_base64",
        "unknown_admin_code",
        "outdated_admin_code",
        "future_date",
        "impossible_date",
        "negative_amount",
        "duplicate_record",
        "nfd_text",
        "excel_header_shift",
        "number_as_text",
        "schema_drift_added_column",
        "schema_drift_rename",
        "source_unavailable",
        "mqtt_duplicate",
        "out_of_range_reading",
        "late_arriving",
    }
)


class DefectLog:
    """Streams defect records to ``defects.parquet`` in batches."""

    BATCH = 10_000

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows: list[dict[str, object]] = []
        self._writer: pq.ParquetWriter | None = None
        self.count = 0

    def log(self, source: str, record_key: str, kind: str, detail: str, day: object) -> None:
        if kind not in DEFECT_KINDS:
            raise ValueError(f"unknown defect kind {kind!r}")
        self._rows.append(
            {"source": source, "record_key": record_key, "kind": kind, "detail": detail, "day": day}
        )
        self.count += 1
        if len(self._rows) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, DEFECT_SCHEMA, compression="zstd")
        self._writer.write_table(pa.Table.from_pylist(self._rows, schema=DEFECT_SCHEMA))
        self._rows = []

    def close(self) -> None:
        self._flush()
        if self._writer is None:  # no defect at all: still an (empty) file
            pq.write_table(DEFECT_SCHEMA.empty_table(), self.path)
        else:
            self._writer.close()


def concat_defect_logs(parts: list[Path], target: Path) -> int:
    """Join per-sector defect logs into one file, in the order given; returns rows written."""
    rows = 0
    with pq.ParquetWriter(target, DEFECT_SCHEMA, compression="zstd") as writer:
        for part in parts:
            table = pq.read_table(part, schema=DEFECT_SCHEMA)
            if table.num_rows:
                writer.write_table(table)
            rows += table.num_rows
    return rows


TRUTH_SCHEMA = pa.schema(
    [
        ("kpi_id", pa.string()),
        ("period", pa.string()),  # yyyy-mm
        ("admin_level", pa.string()),  # commune | district | province
        ("admin_code", pa.string()),
        ("structure", pa.string()),  # 2025 (new) | legacy (before 1 July 2025)
        ("numerator", pa.float64()),  # fractional only for the products of DERIVED_PRODUCTS
        ("denominator", pa.int64()),
        ("value", pa.float64()),
    ]
)

# Indicators that are the product of two others of the same unit and month, written as
# numerator = n₁ × n₂ / d₂ over denominator d₁: 766-3.3 = online share (766-3.3r) × sync rate
# (766-1.4), the QĐ 766 formula's sync factor (docs/kpis.md).
DERIVED_PRODUCTS = {"766-3.3": ("766-3.3r", "766-1.4")}
# The DTI's public-service indicators, read as the QĐ 766 indicators they measure
# (docs/kpis.md, CQ-0x/formula): the province's rows under the DTI's codes.
DTI_READINGS = {"CQ-01": "766-3.2", "CQ-02": "766-3.3r", "CQ-03": "766-4.2"}


@dataclass(frozen=True)
class TruthKey:
    kpi_id: str
    period: str
    admin_level: str
    admin_code: str
    structure: str


class GroundTruth:
    """Integer numerator/denominator per KPI × admin unit × month, written once at the end."""

    def __init__(self) -> None:
        self._num: dict[TruthKey, int] = defaultdict(int)
        self._den: dict[TruthKey, int] = defaultdict(int)

    def add(
        self,
        kpi_id: str,
        period: str,
        admin_level: str,
        admin_code: str,
        structure: str,
        numerator: int,
        denominator: int,
    ) -> None:
        key = TruthKey(kpi_id, period, admin_level, admin_code, structure)
        self._num[key] += numerator
        self._den[key] += denominator

    def merge(self, other: GroundTruth) -> None:
        """Add another run's sums (a sector generated in another process) to these."""
        for key, value in other._num.items():
            self._num[key] += value
        for key, value in other._den.items():
            self._den[key] += value

    def _with_products(self) -> tuple[dict[TruthKey, float], dict[TruthKey, int]]:
        nums: dict[TruthKey, float] = dict(self._num)
        dens = dict(self._den)
        for product, (share, factor) in DERIVED_PRODUCTS.items():
            for key in [k for k in self._den if k.kpi_id == share]:
                factor_key = TruthKey(
                    factor, key.period, key.admin_level, key.admin_code, key.structure
                )
                if not self._den.get(factor_key):
                    continue
                out = TruthKey(product, key.period, key.admin_level, key.admin_code, key.structure)
                nums[out] = self._num[key] * self._num[factor_key] / self._den[factor_key]
                dens[out] = self._den[key]
        for code, reading in DTI_READINGS.items():
            for key in [k for k in dens if k.kpi_id == reading and k.admin_level == "province"]:
                out = TruthKey(code, key.period, key.admin_level, key.admin_code, key.structure)
                nums[out], dens[out] = nums[key], dens[key]
        return nums, dens

    def rows(self) -> list[dict[str, object]]:
        out = []
        nums, dens = self._with_products()
        for key in sorted(dens, key=lambda k: (k.kpi_id, k.period, k.admin_level, k.admin_code)):
            num, den = nums[key], dens[key]
            out.append(
                {
                    "kpi_id": key.kpi_id,
                    "period": key.period,
                    "admin_level": key.admin_level,
                    "admin_code": key.admin_code,
                    "structure": key.structure,
                    "numerator": num,
                    "denominator": den,
                    "value": num / den if den else None,
                }
            )
        return out

    def write(self, path: Path) -> int:
        rows = self.rows()
        pq.write_table(pa.Table.from_pylist(rows, schema=TRUTH_SCHEMA), path, compression="zstd")
        return len(rows)
