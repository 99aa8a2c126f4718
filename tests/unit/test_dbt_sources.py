"""dbt's source definitions are generated from the registry and must be committed up to date."""

from __future__ import annotations

from iochub.dbt_sources import generate_dbt_sources
from iochub.settings import get_settings


def test_generated_dbt_sources_are_up_to_date() -> None:
    stale = generate_dbt_sources(get_settings(), check=True)
    assert not stale, (
        f"dbt source files out of date with the registry: {[str(p) for p in stale]}; "
        "run `ioc dbt sources` and commit the result"
    )
