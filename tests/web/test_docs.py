"""docs/web.md names every API route the application serves, and nothing it does not."""

from __future__ import annotations

import re
from pathlib import Path

from mrdtrack.web import WebSettings, create_app
from tests.web.support import DemoRegistry, app_routes

WEB_DOC = Path(__file__).resolve().parents[2] / "docs" / "web.md"
_API_ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `(/api/v1/[^`]*)` \|$", re.MULTILINE)


def test_the_api_table_lists_every_api_route(demo_registry: DemoRegistry) -> None:
    app = create_app(demo_registry.url, settings=WebSettings())
    served = {
        (method, path)
        for path, methods in app_routes(app)
        if path.startswith("/api/v1/") and path != "/api/v1/openapi.json"
        for method in methods
        if method != "HEAD"
    }
    documented = set(_API_ROW.findall(WEB_DOC.read_text(encoding="utf-8")))
    assert documented == served
