"""Password hashing, sessions and the login throttle, with a frozen clock (goals 13-16)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from mrdtrack.errors import InputError
from mrdtrack.web.config import WebSettings, setting_help
from mrdtrack.web.policy import Role
from mrdtrack.web.security import (
    ARGON2_MEMORY_KIB,
    LoginRefusal,
    LoginThrottle,
    PasswordHashing,
    Principal,
    SessionStore,
    check_password_policy,
    new_token,
    token_digest,
    tokens_match,
)
from tests.web.support import FrozenClock

ALICE = Principal(1, "alice", "Alice", Role.CLINICIAN, None)


def test_hash_is_argon2id_at_or_above_the_owasp_minimum() -> None:
    stored = PasswordHashing().hash("correct horse battery staple")
    parameters = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert parameters.type is Type.ID
    assert parameters.time_cost >= 2
    assert parameters.memory_cost >= 19 * 1024
    assert parameters.parallelism >= 1


def test_verify_accepts_the_password_and_nothing_else() -> None:
    hashing = PasswordHashing()
    stored = hashing.hash("correct horse battery staple")
    assert hashing.verify(stored, "correct horse battery staple")
    assert not hashing.verify(stored, "correct horse battery stapl")
    assert not hashing.verify("not a hash", "anything")
    assert not hashing.verify(None, "anything")


@pytest.mark.parametrize(
    ("time_cost", "memory_kib", "kind"),
    [
        pytest.param(1, 8 * 1024, Type.ID, id="weaker-parameters"),
        pytest.param(2, ARGON2_MEMORY_KIB, Type.I, id="argon2i-not-id"),
    ],
)
def test_weaker_or_other_hashes_need_a_rehash(time_cost: int, memory_kib: int, kind: Type) -> None:
    legacy = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=kind)
    hashing = PasswordHashing()
    stored = legacy.hash("pw")
    assert hashing.verify(stored, "pw")
    assert hashing.needs_rehash(stored)
    assert not hashing.needs_rehash(hashing.hash("pw"))


def test_parameters_below_policy_are_refused() -> None:
    with pytest.raises(InputError, match="argon2"):
        PasswordHashing(time_cost=1)


@pytest.mark.parametrize(
    ("password", "field_value"),
    [
        pytest.param("short", "5 characters", id="too-short"),
        pytest.param("x" * 129, "129 characters", id="too-long"),
        pytest.param("Alice-the-User", "the username", id="same-as-username"),
    ],
)
def test_password_policy_refusals(password: str, field_value: str) -> None:
    with pytest.raises(InputError) as refused:
        check_password_policy(password, min_length=12, username="alice-the-user")
    assert refused.value.value == field_value


def test_password_policy_accepts_long_passphrases_without_composition_rules() -> None:
    check_password_policy("a" * 64, min_length=12, username="alice")
    check_password_policy("lowercase words only here", min_length=12, username="alice")


def test_tokens_are_128_bit_and_stored_only_as_digests() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 22 for t in tokens)  # 16 bytes in URL-safe base64
    store = SessionStore(FrozenClock(), timedelta(minutes=30), timedelta(hours=12))
    token, _ = store.create(ALICE)
    assert token not in repr(store._sessions)
    assert token_digest(token) in store._sessions
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match(None, "abc")
    assert not tokens_match("", "")


def test_session_idle_timeout() -> None:
    clock = FrozenClock()
    store = SessionStore(clock, timedelta(minutes=30), timedelta(hours=12))
    token, _ = store.create(ALICE)
    clock.advance(minutes=29, seconds=59)
    assert store.get(token) is not None  # and this request resets the idle timer
    clock.advance(minutes=29, seconds=59)
    assert store.get(token) is not None
    clock.advance(minutes=30)
    assert store.get(token) is None
    assert len(store) == 0


def test_session_absolute_timeout_despite_activity() -> None:
    clock = FrozenClock()
    store = SessionStore(clock, timedelta(minutes=30), timedelta(hours=12))
    token, _ = store.create(ALICE)
    for _ in range(47):  # a request every 15 minutes for 11 h 45 min
        clock.advance(minutes=15)
        assert store.get(token) is not None
    clock.advance(minutes=15)
    assert store.get(token) is None


def test_revoke_user_ends_every_session_of_that_user() -> None:
    store = SessionStore(FrozenClock(), timedelta(minutes=30), timedelta(hours=12))
    first, _ = store.create(ALICE)
    second, _ = store.create(ALICE)
    other, _ = store.create(Principal(2, "bob", "Bob", Role.LAB, None))
    assert store.revoke_user(ALICE.user_id) == 2
    assert store.get(first) is None and store.get(second) is None
    assert store.get(other) is not None


def _throttle(clock: FrozenClock) -> LoginThrottle:
    return LoginThrottle(
        clock,
        failures=5,
        window=timedelta(minutes=15),
        lockout=timedelta(minutes=15),
        attempts_per_minute=10,
    )


def test_five_failures_in_fifteen_minutes_lock_the_account_for_fifteen() -> None:
    clock = FrozenClock()
    throttle = _throttle(clock)
    for attempt in range(5):
        assert throttle.admit("alice", f"10.0.0.{attempt}") is None
        assert throttle.failed("Alice") is (attempt == 4)
        clock.advance(minutes=2)
    assert throttle.admit("ALICE", "10.0.1.1") is LoginRefusal.LOCKED
    clock.advance(minutes=12, seconds=59)  # 14:59 after the fifth failure (at minute 8)
    assert throttle.admit("alice", "10.0.1.2") is LoginRefusal.LOCKED
    clock.advance(seconds=1)
    assert throttle.admit("alice", "10.0.1.3") is None


def test_failures_spread_over_more_than_the_window_do_not_lock() -> None:
    clock = FrozenClock()
    throttle = _throttle(clock)
    for _ in range(8):
        assert throttle.admit("alice", "10.0.0.1") is None
        assert not throttle.failed("alice")
        clock.advance(minutes=4)  # never 5 failures within 15 minutes


def test_one_address_may_try_ten_logins_a_minute() -> None:
    clock = FrozenClock()
    throttle = _throttle(clock)
    refusals = [throttle.admit(f"user{i}", "10.9.9.9") for i in range(11)]
    assert refusals[:10] == [None] * 10
    assert refusals[10] is LoginRefusal.RATE_LIMITED
    clock.advance(seconds=61)
    assert throttle.admit("user0", "10.9.9.9") is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("idle_timeout", timedelta(minutes=31), id="idle-over-30-min"),
        pytest.param("absolute_timeout", timedelta(hours=13), id="absolute-over-12-h"),
        pytest.param("lockout_failures", 6, id="more-than-5-failures"),
        pytest.param("lockout_window", timedelta(minutes=10), id="window-under-15-min"),
        pytest.param("lockout_duration", timedelta(minutes=5), id="lockout-under-15-min"),
        pytest.param("login_attempts_per_minute", 11, id="over-10-a-minute"),
        pytest.param("password_min_length", 7, id="passwords-under-8"),
    ],
)
def test_settings_may_tighten_the_limits_but_never_loosen_them(name: str, value: object) -> None:
    with pytest.raises(InputError) as refused:
        WebSettings(**{name: value})  # type: ignore[arg-type]
    assert refused.value.field == name


def test_every_setting_has_help_text() -> None:
    helps = setting_help()
    assert set(helps) >= {"secure_cookies", "idle_timeout", "production", "clock"}
    assert all(len(text) > 20 for text in helps.values())
