import mrdtrack.web


def test_public_api() -> None:
    assert sorted(mrdtrack.web.__all__) == ["Action", "POLICY", "Role", "WebSettings", "create_app"]
