"""The password policy: length, common and breached passwords, the local corpus (goal 14)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.web import WebSettings, create_app
from mrdtrack.web.security import (
    COMMON_PASSWORD_COUNT,
    check_password_policy,
    common_passwords,
    load_breached_passwords,
    password_sha1,
)
from tests.web.support import DemoRegistry, FrozenClock, TestClient, signed_in

LONG_COMMON = [p for p in FREQUENCY_LISTS["passwords"][:COMMON_PASSWORD_COUNT] if len(p) >= 12]
BREACHED = "correct horse battery staple"
BREACHED_SHA1 = hashlib.sha1(BREACHED.encode()).hexdigest()


def test_the_common_list_is_the_top_3000_of_zxcvbn() -> None:
    common = common_passwords()
    assert len(common) == COMMON_PASSWORD_COUNT == 3_000
    assert {"123456", "password", "qwerty"} <= common
    assert FREQUENCY_LISTS["passwords"][3_000].lower() not in common
    assert len(LONG_COMMON) >= 10  # long ones exist: the length rule alone does not catch them


@pytest.mark.parametrize(
    "password",
    [
        pytest.param(LONG_COMMON[0], id="common-12+"),
        pytest.param(LONG_COMMON[0].upper(), id="common-upper-case"),
        pytest.param(f" {LONG_COMMON[1]} ", id="common-padded"),
        pytest.param("12345678", id="common-8-at-minimum-8"),
    ],
)
def test_common_passwords_are_refused_without_echo(password: str) -> None:
    with pytest.raises(InputError) as refused:
        check_password_policy(password, min_length=8, username="alice")
    message = str(refused.value)
    assert refused.value.field == "password"
    assert "longer passphrase" in message
    assert password.strip() not in message and password.strip().lower() not in message.lower()


def test_the_local_corpus_refuses_its_passwords_exactly() -> None:
    corpus = frozenset({BREACHED_SHA1})
    with pytest.raises(InputError, match="common or breached"):
        check_password_policy(BREACHED, min_length=12, username="alice", breached_sha1=corpus)
    # The corpus holds digests of exact passwords: another case is another password.
    check_password_policy(BREACHED.upper(), min_length=12, username="alice", breached_sha1=corpus)
    check_password_policy("a passphrase nobody has used", min_length=12, username="alice")


def test_the_field_is_named_as_the_form_names_it() -> None:
    with pytest.raises(InputError) as refused:
        check_password_policy("short", min_length=12, username="a", field="new_password")
    assert refused.value.field == "new_password"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"{BREACHED}\nsecond one here\n\n", {BREACHED, "second one here"}, id="plain"),
        pytest.param(f"\ufeff{BREACHED}\r\n", {BREACHED}, id="bom-crlf"),
        pytest.param(
            f"{BREACHED_SHA1.upper()}:42\n{password_sha1('x' * 12)}\n",
            {BREACHED, "x" * 12},
            id="hibp",
        ),
    ],
)
def test_corpus_files_load_as_sha1_digests(tmp_path: Path, text: str, expected: set[str]) -> None:
    path = tmp_path / "breached.txt"
    path.write_text(text, encoding="utf-8", newline="")
    loaded = load_breached_passwords(path)
    assert loaded == {password_sha1(p) for p in expected}
    assert not any(p in loaded for p in expected)  # digests only, never the text


@pytest.mark.parametrize(
    ("content", "line", "expected"),
    [
        pytest.param(f"{BREACHED_SHA1}\nnot-a-digest\n".encode(), 2, "SHA-1", id="mixed"),
        pytest.param(f"{BREACHED_SHA1}\n{BREACHED_SHA1}:many\n".encode(), 2, "SHA-1", id="count"),
        pytest.param(b"fine password\n\xff\xfe\n", 2, "UTF-8", id="not-utf8"),
        pytest.param(b"ok password\nx" + b"y" * 200 + b"\n", 2, "at most 128", id="too-long"),
        pytest.param(b"a\tb\n", 1, "printable", id="control-character"),
        pytest.param(b"\n  \n", 1, "at least one", id="empty"),
    ],
)
def test_a_bad_corpus_names_the_file_and_line_not_the_text(
    tmp_path: Path, content: bytes, line: int, expected: str
) -> None:
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(ImportValidationError) as refused:
        load_breached_passwords(path)
    message = str(refused.value)
    assert f"{path}, line {line}" in message and expected in message
    assert "not-a-digest" not in message and "fine password" not in message


def test_a_missing_corpus_is_a_start_up_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    with pytest.raises(ImportValidationError, match="breached_passwords_file") as refused:
        create_app(
            f"sqlite:///{tmp_path / 'r.sqlite3'}",
            settings=WebSettings(breached_passwords_file=missing),
        )
    assert str(missing) in str(refused.value)


def _change(client: TestClient, token: str, old: str, new: str) -> Any:
    return client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": old,
            "new_password": new,
            "confirm_password": new,
        },
    )


def test_the_account_page_refuses_common_and_breached_passwords(
    fresh_registry: DemoRegistry, clock: FrozenClock, tmp_path: Path
) -> None:
    corpus = tmp_path / "breached.txt"
    corpus.write_text(f"{BREACHED_SHA1}:3\n", encoding="utf-8")
    old = fresh_registry.passwords["lab"]
    with signed_in(fresh_registry, clock, "lab", breached_passwords_file=corpus) as (client, token):
        for refused in (LONG_COMMON[0], BREACHED):
            response = _change(client, token, old, refused)
            assert response.status_code == 422
            page = response.text
            assert "longer passphrase" in page and refused not in page
        done = _change(client, token, old, "tram lines cross at dawn")
        assert done.status_code == 303


def test_the_minimum_length_is_configurable_but_never_below_eight(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with pytest.raises(InputError, match="password_min_length"):
        WebSettings(password_min_length=7)
    old = fresh_registry.passwords["monitor"]
    with signed_in(fresh_registry, clock, "monitor", password_min_length=20) as (client, token):
        short = _change(client, token, old, "nineteen characters")
        assert short.status_code == 422
        assert "at least 20 characters" in short.text
        assert "at least 20 characters" in client.get("/account").text
