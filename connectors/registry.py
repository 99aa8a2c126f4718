"""The source registry: one YAML file per sector system under ``connectors/sources/``.

Everything downstream is derived from these declarations (extract DAGs, landing contracts, dbt
sources, freshness). This module loads and validates them into typed models; a mistake in a file
is reported with the file's path and the field at fault.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from iochub.settings import Settings


class PiiTreatment(StrEnum):
    """How a personal-data column is treated at landing, before anything is written."""

    HMAC = "hmac"  # keyed HMAC-SHA256 pseudonym: stable, joinable, not reversible without key
    DROP = "drop"  # never lands
    YEAR = "year"  # a date generalised to its year


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Connection(_Model):
    """Where the source lives, by reference: an environment variable, never a secret."""

    env: str
    default: str | None = None

    def resolve(self, settings: Settings, environ: dict[str, str]) -> str:
        value = environ.get(self.env) or self.default
        if value is None:
            raise RegistryError(f"environment variable {self.env} is not set")
        return value.format(sim=settings.sim_dir, home=settings.home)


class FilesSpec(_Model):
    format: Literal["xml130"]
    pattern: str = "**/*"


class TableSpec(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    record_path: str
    primary_key: list[str]
    required: list[str] = []
    pii: dict[str, PiiTreatment] = {}


class Source(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    sector: Literal["health", "public_services", "education", "agriculture", "iot", "statistics"]
    title: str
    owner: str
    kind: Literal["files"]
    connection: Connection
    schedule: str
    freshness_hours: int = Field(gt=0)
    files: FilesSpec | None = None
    tables: list[TableSpec] = Field(min_length=1)

    def table(self, name: str) -> TableSpec:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"source {self.name} has no table {name}")


class RegistryError(Exception):
    """A registry file is missing, unreadable or does not match the schema."""


def load_source(path: Path) -> Source:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Source.model_validate(data)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise RegistryError(f"{path}: {problems}") from exc


def load_registry(settings: Settings) -> dict[str, Source]:
    """All declared sources by name; raises on the first invalid file or duplicate name."""
    sources: dict[str, Source] = {}
    for path in sorted(settings.sources_dir.rglob("*.yaml")):
        source = load_source(path)
        if source.name in sources:
            raise RegistryError(f"{path}: source name {source.name!r} is declared twice")
        sources[source.name] = source
    return sources
