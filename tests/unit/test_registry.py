from pathlib import Path

import pytest

from connectors.registry import RegistryError, load_registry, load_source
from iochub.settings import Settings


def test_registry_declares_the_health_xml130_inbox(home: Settings) -> None:
    sources = load_registry(home)
    source = sources["health_xml130"]
    assert source.kind == "files"
    assert [t.name for t in source.tables] == ["xml1", "xml2", "xml3", "xml4", "xml13"]
    assert set(source.table("xml1").pii) == {
        "MA_BN",
        "HO_TEN",
        "SO_CCCD",
        "MA_THE_BHYT",
        "NGAY_SINH",
        "DIEN_THOAI",
        "DIA_CHI",
    }


def test_invalid_file_names_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: Bad-Name\nsector: health\ntitle: t\nowner: o\nkind: files\n"
        "connection: {env: X}\nschedule: '@daily'\nfreshness_hours: 0\ntables: []\n"
    )
    with pytest.raises(RegistryError) as err:
        load_source(bad)
    message = str(err.value)
    assert str(bad) in message
    assert "name" in message and "freshness_hours" in message and "tables" in message


def test_secret_like_connection_is_by_reference_only(tmp_path: Path) -> None:
    bad = tmp_path / "secret.yaml"
    bad.write_text(
        "name: s\nsector: health\ntitle: t\nowner: o\nkind: files\n"
        "connection: {env: X, password: hunter2}\nschedule: '@daily'\nfreshness_hours: 1\n"
        "tables: [{name: a, title: a, record_path: '.', primary_key: [k]}]\n"
    )
    with pytest.raises(RegistryError, match="password"):
        load_source(bad)


def test_the_registry_is_parsed_again_only_when_a_file_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from iochub.settings import get_settings

    sources = tmp_path / "sources"
    shutil.copytree(get_settings().sources_dir, sources)
    monkeypatch.setenv("IOC_SOURCES_DIR", str(sources))
    settings = get_settings()
    first = load_registry(settings)
    again = load_registry(settings)
    assert again == first and again is not first  # the caller's own dict
    assert all(again[name] is first[name] for name in first)  # not parsed again

    declaration = sources / "iot" / "iot_mqtt.yaml"
    declaration.write_text(
        declaration.read_text(encoding="utf-8").replace("freshness_hours: 3", "freshness_hours: 5"),
        encoding="utf-8",
    )
    changed = load_registry(settings)
    assert changed["iot_mqtt"].freshness_hours == 5
    assert first["iot_mqtt"].freshness_hours == 3
    (sources / "iot" / "iot_mqtt.yaml").unlink()
    assert "iot_mqtt" not in load_registry(settings)
