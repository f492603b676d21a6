"""Settings, declared once as data, read at the edge (CLI, web app), documented.

Each setting has a name, the environment variable that sets it, a default and help text.
``docs/settings.md`` lists them all; a test fails when one is missing there. Domain
packages never read settings: the interfaces pass plain values in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from mrdtrack.errors import InputError

__all__ = ["SETTINGS", "Setting", "Settings", "load_settings"]


@dataclass(frozen=True, slots=True)
class Setting:
    """One declared setting."""

    name: str
    env: str
    default: Callable[[], Any]
    parse: Callable[[str], Any]
    help: str


def _default_db_url() -> str:
    data_dir = Path(platformdirs.user_data_dir("mrdtrack"))
    return f"sqlite:///{data_dir / 'registry.sqlite3'}"


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise InputError("MRDTRACK_DEBUG", raw, "one of: 1, 0, true, false, yes, no, on, off")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        name="db_url",
        env="MRDTRACK_DB",
        default=_default_db_url,
        parse=str,
        help=(
            "Registry database URL. Default: a SQLite file in the user data directory; "
            "`postgresql+psycopg://user@host/db` selects PostgreSQL."
        ),
    ),
    Setting(
        name="data_dir",
        env="MRDTRACK_DATA_DIR",
        default=lambda: Path(platformdirs.user_data_dir("mrdtrack")),
        parse=Path,
        help="Directory for the registry file, backups and rendered figures.",
    ),
    Setting(
        name="debug",
        env="MRDTRACK_DEBUG",
        default=lambda: False,
        parse=_parse_bool,
        help=(
            "Show Python tracebacks for unexpected internal errors (exit code 1). "
            "Never enable on a shared server."
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """The resolved values of every declared setting."""

    db_url: str
    data_dir: Path
    debug: bool


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Resolve every setting from ``environ`` (pass ``os.environ`` at the edge)."""
    values = {
        s.name: s.parse(environ[s.env]) if s.env in environ else s.default() for s in SETTINGS
    }
    return Settings(**values)
