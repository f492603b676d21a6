"""Settings are declared once and every one is documented (docs/settings.md)."""

from pathlib import Path

import pytest

from mrdtrack.errors import InputError
from mrdtrack.settings import SETTINGS, load_settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_documented(setting: object) -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert f"`{setting.env}`" in text  # type: ignore[attr-defined]
    assert f"`{setting.name}`" in text  # type: ignore[attr-defined]


def test_environment_overrides_defaults() -> None:
    settings = load_settings({"MRDTRACK_DB": "sqlite:///x.db", "MRDTRACK_DEBUG": "yes"})
    assert settings.db_url == "sqlite:///x.db"
    assert settings.debug is True
    assert load_settings({}).db_url.startswith("sqlite:///")


def test_bad_boolean_names_the_variable() -> None:
    with pytest.raises(InputError, match="MRDTRACK_DEBUG"):
        load_settings({"MRDTRACK_DEBUG": "maybe"})
