"""Operators in the core, on both backends (a real SQLite file and a ledger; names case-blind on both): PIN rules, the stored hash, sign-in with its growing waits (the
clock and the sleeper injected: no test waits real seconds), the roles, every attempt audited."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from console import operators, pins
from console.errors import RefusedError, UsageError
from console.operators import SUPERVISOR, SignedIn, SignInRefused
from console.store import Store

SUPERVISOR_PIN = "482915"
OPERATOR_PIN = "teh manis di loket"


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 12, 1, 8, 0).astimezone()

    def __call__(self) -> datetime:
        return self.moment


class Sleeper:
    """Records the waits sign_in asks for, and moves the injected clock on by them."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.waits = clock, []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.moment += timedelta(seconds=seconds)


async def _registered(location):
    opened = await Store.open(location)
    await operators.add_operator(opened, "Siti Aminah", SUPERVISOR, SUPERVISOR_PIN, "root")
    await operators.add_operator(opened, "Baiq", "operator", OPERATOR_PIN, "Siti Aminah")
    return opened


@pytest.fixture
async def store(database):
    async with await _registered(database) as opened:
        yield opened


@pytest.fixture
async def sqlite_store(tmp_path):
    async with await _registered(tmp_path / "station.db") as opened:
        yield opened


async def audit_of(store: Store, action: str) -> list[dict]:
    rows = await store.fetchall("SELECT actor, subject, data FROM audit WHERE action = ? ORDER BY seq", (action,))
    return [{"actor": r["actor"], "subject": r["subject"], **json.loads(r["data"])} for r in rows]


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("000000", "trivial"),
        ("123456", "trivial"),
        ("654321", "trivial"),
        ("890123", "trivial"),
        ("121212", "trivial"),
        ("123123", "trivial"),
        ("12345", "short_pin"),
        ("password", "short_passphrase"),
        ("Password1", "short_passphrase"),
        ("qwertyuiop", "trivial"),
        ("Password123", "trivial"),
        ("abcabcabcabc", "trivial"),
        ("pendek", "short_passphrase"),
        ("Siti Aminah 2026", "trivial"),
        ("12\x0734567", "control"),
        ("x" * 129, "too_long"),
    ],
)
def test_weak_secrets_are_refused_saying_why(secret, why):
    assert pins.weakness(secret, "Siti Aminah") == why


@pytest.mark.parametrize("secret", ["482915", "0571946283", "teh manis di loket", "Rinjani-3726"])
def test_fair_secrets_are_accepted(secret):
    assert pins.weakness(secret, "Siti Aminah") is None


def test_the_wait_grows_after_two_free_slips_and_is_capped():
    assert [pins.delay_after(n) for n in range(8)] == [0, 0, 0, 5, 10, 20, 40, 80]
    assert pins.delay_after(50) == pins.MAX_DELAY_S


def test_the_hash_is_salted_and_records_its_parameters():
    one, two = pins.hash_pin(SUPERVISOR_PIN), pins.hash_pin(SUPERVISOR_PIN)
    assert one.hash_hex != two.hash_hex and one.salt_hex != two.salt_hex
    assert one.params == "scrypt:n=16384,r=8,p=1,len=32"
    assert pins.pin_matches(SUPERVISOR_PIN, one) and not pins.pin_matches("482916", one)


async def test_the_database_never_holds_the_pin(sqlite_store, tmp_path):
    raw = (tmp_path / "station.db").read_bytes() + (tmp_path / "station.db-wal").read_bytes()
    assert SUPERVISOR_PIN.encode() not in raw and OPERATOR_PIN.encode() not in raw


async def test_sign_in_names_the_operator_in_the_log(store):
    outcome = await operators.sign_in(store, "siti aminah", SUPERVISOR_PIN, terminal="loket1")
    assert outcome == SignedIn("Siti Aminah", SUPERVISOR)  # the name as registered, whatever the case typed
    [entry] = await audit_of(store, "operator.signed_in")
    assert entry["actor"] == "Siti Aminah" and entry["terminal"] == "loket1" and entry["role"] == SUPERVISOR


async def test_wrong_pins_slow_down_the_next_attempt_and_are_audited(store):
    clock = Clock()
    sleeper = Sleeper(clock)

    async def attempt(pin: str):
        return await operators.sign_in(store, "Baiq", pin, terminal="loket1", now=clock, sleep=sleeper)

    for expected_wait in (0, 0, 5):
        outcome = await attempt("wrong passphrase")
        assert outcome == SignInRefused("Baiq", "wrong_pin", expected_wait)
    assert sleeper.waits == [5]  # the first two slips cost nothing; the third is awaited
    failed = await audit_of(store, "operator.sign_in_failed")
    assert [(e["why"], e["failures"], e["wait_s"]) for e in failed] == [
        ("wrong_pin", 1, 0),
        ("wrong_pin", 2, 0),
        ("wrong_pin", 3, 5),
    ]
    assert all(OPERATOR_PIN not in json.dumps(e) and "wrong passphrase" not in json.dumps(e) for e in failed)

    clock.moment -= timedelta(seconds=2)  # another terminal tries within the wait: the right PIN is not even looked at
    assert await attempt(OPERATOR_PIN) == SignInRefused("Baiq", "locked_out", 2.0)
    assert (await audit_of(store, "operator.sign_in_failed"))[-1]["why"] == "locked_out"

    clock.moment += timedelta(seconds=2)
    assert await attempt("wrong again") == SignInRefused("Baiq", "wrong_pin", 10)
    assert await attempt(OPERATOR_PIN) == SignedIn("Baiq", "operator")
    row = await store.fetchone("SELECT failed_attempts, locked_until FROM operators WHERE name = 'Baiq'")
    assert (row["failed_attempts"], row["locked_until"]) == (0, None)
    assert (await audit_of(store, "operator.signed_in"))[-1]["after_failures"] == 4


async def test_unknown_and_disabled_operators_cannot_sign_in(store):
    assert await operators.sign_in(store, "Mallory", "482915", terminal="x") == SignInRefused("Mallory", "unknown")
    await operators.disable_operator(store, "Baiq", "Siti Aminah")
    assert await operators.sign_in(store, "Baiq", OPERATOR_PIN, terminal="x") == SignInRefused("Baiq", "disabled")
    assert [e["why"] for e in await audit_of(store, "operator.sign_in_failed")] == ["unknown", "disabled"]


async def test_older_hash_parameters_are_raised_at_the_next_sign_in(store):
    weaker = pins.hash_pin(OPERATOR_PIN, pins.ScryptParams(n=2**12))
    async with store.transaction("test") as tx:
        await tx.execute(
            "UPDATE operators SET pin_hash = ?, pin_salt = ?, pin_params = ? WHERE name = 'Baiq'",
            (weaker.hash_hex, weaker.salt_hex, weaker.params),
        )
    assert await operators.sign_in(store, "Baiq", OPERATOR_PIN, terminal="x") == SignedIn("Baiq", "operator")
    row = await store.fetchone("SELECT pin_params FROM operators WHERE name = 'Baiq'")
    assert row["pin_params"] == pins.CURRENT.encode()
    assert await operators.sign_in(store, "Baiq", OPERATOR_PIN, terminal="x") == SignedIn("Baiq", "operator")


async def test_require_role_lets_everyone_through_until_operators_exist(database):
    async with await Store.open(database) as fresh:
        await operators.require_role(fresh, "anyone", SUPERVISOR, "unlock")


async def test_require_role_needs_an_active_supervisor(store):
    await operators.require_role(store, "Siti Aminah", SUPERVISOR, "unlock")
    await operators.require_role(store, "Baiq", "operator", "unlock")
    for actor in ("Baiq", "root", "station"):
        with pytest.raises(RefusedError, match=r"Siti|Baiq|root|station"):
            await operators.require_role(store, actor, SUPERVISOR, "unlock")
    await operators.add_operator(store, "Lalu Ahmad", SUPERVISOR, "739184", "Siti Aminah")
    await operators.disable_operator(store, "Siti Aminah", "Lalu Ahmad")
    with pytest.raises(RefusedError):
        await operators.require_role(store, "Siti Aminah", SUPERVISOR, "unlock")


async def test_registration_rules(database):
    async with await Store.open(database) as store:
        with pytest.raises(RefusedError):  # nobody could then add a supervisor or apply a grant
            await operators.add_operator(store, "Baiq", "operator", OPERATOR_PIN, "root")
        with pytest.raises(UsageError):
            await operators.add_operator(store, "Siti", SUPERVISOR, "123456", "root")
        for bad_name in ("", " Siti", "Siti\n", "a;b", "station", "x" * 41):
            with pytest.raises(UsageError):
                await operators.add_operator(store, bad_name, SUPERVISOR, SUPERVISOR_PIN, "root")
        assert await operators.list_operators(store) == []
        await operators.add_operator(store, "Siti", SUPERVISOR, SUPERVISOR_PIN, "root")
        with pytest.raises(RefusedError):  # the first supervisor signed in adds the rest, no one else
            await operators.add_operator(store, "Baiq", "operator", OPERATOR_PIN, "root")
        with pytest.raises(RefusedError):
            await operators.add_operator(store, "SITI", "operator", OPERATOR_PIN, "Siti")
        with pytest.raises(RefusedError):
            await operators.disable_operator(store, "Siti", "Siti")  # the last supervisor stays
        await operators.add_operator(store, "Baiq", "operator", OPERATOR_PIN, "Siti")
        with pytest.raises(RefusedError):  # an operator changes only their own PIN
            await operators.change_pin(store, "Siti", "surely my turn now", "Baiq")
        added = await audit_of(store, "operator.added")
        assert [(e["actor"], e["subject"], e["role"]) for e in added] == [
            ("root", "operator:Siti", SUPERVISOR),
            ("Siti", "operator:Baiq", "operator"),
        ]


async def test_a_new_pin_lifts_the_wait(store):
    clock = Clock()
    sleeper = Sleeper(clock)
    for _ in range(4):
        await operators.sign_in(store, "Baiq", "nope nope nope", terminal="x", now=clock, sleep=sleeper)
    clock.moment -= timedelta(seconds=1)
    await operators.change_pin(store, "Baiq", "kopi tubruk pagi", "Siti Aminah")
    assert await operators.sign_in(store, "Baiq", "kopi tubruk pagi", terminal="x", now=clock) == SignedIn(
        "Baiq", "operator"
    )
    assert await operators.sign_in(store, "Baiq", OPERATOR_PIN, terminal="x", now=clock) == SignInRefused(
        "Baiq", "wrong_pin", 0
    )
