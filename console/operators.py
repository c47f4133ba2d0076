"""Operators who sign in: registering them, their PINs, signing in with growing delays after wrong PINs, and the
role check for the sensitive steps. Every change and every attempt is audited (never the PIN itself).

While no operator is registered (a fresh install, the demo), nothing here stands in anyone's way: `require_role`
lets every step through, and the actor is the operating-system user (`operator.py`).
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console import pins
from console.clock import instant
from console.clock import now as clock_now
from console.errors import RefusedError, UsageError
from console.hints import Where, with_hint
from console.i18n import t
from console.sql_words import nocase, same_nocase
from console.store import Store

OPERATOR, SUPERVISOR = ROLES = ("operator", "supervisor")
MAX_NAME_CHARS = 40
RESERVED_NAMES = frozenset({"station", "import", "test", "-"})  # actors the station itself writes in the log


@dataclass(frozen=True)
class Operator:
    name: str
    role: str
    created_at: str
    disabled_at: str | None
    failed_attempts: int
    locked_until: str | None

    @classmethod
    def from_row(cls, row: Any) -> Operator:
        return cls(
            row["name"], row["role"], row["created_at"], row["disabled_at"], row["failed_attempts"], row["locked_until"]
        )


@dataclass(frozen=True)
class SignedIn:
    name: str
    role: str

    def may(self, role: str) -> bool:
        return covers(self.role, role)


@dataclass(frozen=True)
class SignInRefused:
    name: str
    why: str  # unknown | disabled | locked_out | wrong_pin
    wait_s: float = 0.0

    def sentence(self, where: Where) -> str:
        """Why, and what to do next for `where` (a command on the command line, a step at the console)."""
        fact = t(f"operator.refused.{self.why}", name=self.name, wait=int(self.wait_s + 0.999))
        return with_hint(fact, f"operator.refused.{self.why}", where)


def covers(held: str, needed: str) -> bool:
    """A supervisor may do what an operator may."""
    return held in (needed, SUPERVISOR)


async def any_registered(db: Any) -> bool:
    """Whether sign-in is in force: some operator is registered and not disabled."""
    return await db.fetchone("SELECT 1 FROM operators WHERE disabled_at IS NULL LIMIT 1") is not None


async def list_operators(db: Any) -> list[Operator]:
    rows = await db.fetchall(f"SELECT * FROM operators ORDER BY {nocase(db, 'name')}")
    return [Operator.from_row(row) for row in rows]


async def require_role(db: Any, actor: str, role: str, step: str) -> None:
    """Refuse (exit 4) a step that needs `role` unless `actor` is a signed-in operator holding it. `db` is the
    store or an open transaction; `step` names the step for the sentence (`operator.step.<step>`)."""
    if not await any_registered(db):
        return
    row = await db.fetchone(
        f"SELECT role FROM operators WHERE {same_nocase(db, 'name')} AND disabled_at IS NULL", (actor,)
    )
    if row is None or not covers(row["role"], role):
        raise RefusedError(
            t("operator.role_required", step=t(f"operator.step.{step}"), role=t(f"operator.role.{role}"), actor=actor)
        )


def check_name(name: str) -> str:
    """The name as it will be kept, or a UsageError saying what is wrong with it."""
    name = unicodedata.normalize("NFC", name)
    allowed = all(c.isalnum() or c in " .-_'" for c in name)
    if not name or name != name.strip() or "  " in name or len(name) > MAX_NAME_CHARS or not allowed:
        raise UsageError(t("operator.bad_name", name=name, max=MAX_NAME_CHARS))
    if name.casefold() in RESERVED_NAMES:
        raise UsageError(t("operator.reserved_name", name=name))
    return name


def check_pin(pin: str, name: str) -> None:
    why = pins.weakness(pin, name)
    if why is not None:
        raise UsageError(
            t(
                f"operator.pin_weak.{why}",
                digits=pins.MIN_PIN_DIGITS,
                chars=pins.MIN_PASSPHRASE_CHARS,
                max=pins.MAX_SECRET_CHARS,
            )
        )


async def add_operator(store: Store, name: str, role: str, pin: str, actor: str) -> Operator:
    """Register an operator. The first must be a supervisor (or no one could add the next or apply a grant);
    after that only a signed-in supervisor adds operators."""
    name = check_name(name)
    if role not in ROLES:
        raise UsageError(t("operator.bad_role", role=role, roles=", ".join(ROLES)))
    check_pin(pin, name)
    stored = await asyncio.to_thread(pins.hash_pin, pin)
    async with store.transaction(actor) as tx:
        if not await any_registered(tx) and role != SUPERVISOR:
            raise RefusedError(t("operator.first_must_supervise", name=name))
        await require_role(tx, actor, SUPERVISOR, "operator_add")
        if await tx.fetchone(f"SELECT 1 FROM operators WHERE {same_nocase(tx, 'name')}", (name,)) is not None:
            raise RefusedError(t("operator.exists", name=name))
        at = clock_now().isoformat(timespec="milliseconds")
        await tx.execute(
            "INSERT INTO operators (name, role, pin_hash, pin_salt, pin_params, created_at, created_by, "
            "pin_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (name, role, stored.hash_hex, stored.salt_hex, stored.params, at, actor, at),
        )
        await tx.audit("operator.added", f"operator:{name}", role=role)
        return Operator.from_row(await tx.fetchone(f"SELECT * FROM operators WHERE {same_nocase(tx, 'name')}", (name,)))


async def change_pin(store: Store, name: str, pin: str, actor: str) -> None:
    """A new PIN, set by the operator or by a supervisor; it also lifts a wait earned by wrong PINs."""
    async with store.transaction(actor) as tx:
        row = await _registered(tx, name)
        if actor.casefold() != row["name"].casefold():
            await require_role(tx, actor, SUPERVISOR, "operator_passwd")
        check_pin(pin, row["name"])
        stored = await asyncio.to_thread(pins.hash_pin, pin)
        await tx.execute(
            "UPDATE operators SET pin_hash = ?, pin_salt = ?, pin_params = ?, pin_changed_at = ?, "
            f"failed_attempts = 0, locked_until = NULL WHERE {same_nocase(tx, 'name')}",
            (
                stored.hash_hex,
                stored.salt_hex,
                stored.params,
                clock_now().isoformat(timespec="milliseconds"),
                row["name"],
            ),
        )
        await tx.audit("operator.pin_changed", f"operator:{row['name']}")


async def disable_operator(store: Store, name: str, actor: str) -> None:
    """An operator who left: kept in the list and the log, never signs in again. The last supervisor stays."""
    async with store.transaction(actor) as tx:
        row = await _registered(tx, name)
        await require_role(tx, actor, SUPERVISOR, "operator_disable")
        if row["disabled_at"] is not None:
            return
        if row["role"] == SUPERVISOR:
            others = await tx.fetchone(
                "SELECT 1 FROM operators WHERE role = ? AND disabled_at IS NULL AND name != ?",
                (SUPERVISOR, row["name"]),
            )
            if others is None:
                raise RefusedError(t("operator.last_supervisor", name=row["name"]))
        await tx.execute(
            f"UPDATE operators SET disabled_at = ? WHERE {same_nocase(tx, 'name')}",
            (clock_now().isoformat(timespec="milliseconds"), row["name"]),
        )
        await tx.audit("operator.disabled", f"operator:{row['name']}")


async def _may_write_pins(tx: Any) -> bool:
    """On a ledger a station's role may not write PINs (the regency's office registers operators and their PINs,
    docs/multi-station.md): a PIN is kept under stronger parameters at its next sign-in there."""
    return tx.dialect != "postgresql" or bool(
        await tx.fetchone("SELECT 1 WHERE has_column_privilege('public.operators', 'pin_hash', 'UPDATE')")
    )


async def _registered(tx: Any, name: str) -> Any:
    row = await tx.fetchone(f"SELECT * FROM operators WHERE {same_nocase(tx, 'name')}", (name,))
    if row is None:
        raise RefusedError(t("operator.refused.unknown", name=name, wait=0))
    return row


async def sign_in(
    store: Store,
    name: str,
    pin: str,
    *,
    terminal: str,
    now: Callable[[], datetime] = clock_now,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> SignedIn | SignInRefused:
    """Check `name`'s PIN; audited either way (`operator.signed_in`, `operator.sign_in_failed`).

    After a wrong PIN the next attempt must wait `pins.delay_after(failures)`: the wait is stored (so that a new
    process or a second terminal gains nothing) and awaited here before the refusal is returned. An attempt
    during the wait is refused without looking at the PIN. `terminal` is who sits at the terminal as far as
    the operating system knows, kept in the audit entry.
    """
    async with store.transaction(terminal) as tx:
        outcome = await _attempt(tx, name, pin, terminal, now())
    if isinstance(outcome, SignInRefused) and outcome.why == "wrong_pin" and outcome.wait_s > 0:
        await sleep(outcome.wait_s)
    return outcome


async def _attempt(tx: Any, name: str, pin: str, terminal: str, moment: datetime) -> SignedIn | SignInRefused:
    subject = f"operator:{name}"
    row = await tx.fetchone(f"SELECT * FROM operators WHERE {same_nocase(tx, 'name')}", (name,))
    if row is None or row["disabled_at"] is not None:
        why = "unknown" if row is None else "disabled"
        await tx.audit("operator.sign_in_failed", subject, why=why, terminal=terminal)
        return SignInRefused(name, why)
    name, subject = row["name"], f"operator:{row['name']}"
    if row["locked_until"] is not None and instant(row["locked_until"]) > moment:
        wait = (instant(row["locked_until"]) - moment).total_seconds()
        await tx.audit("operator.sign_in_failed", subject, why="locked_out", terminal=terminal, wait_s=round(wait, 1))
        return SignInRefused(name, "locked_out", wait)
    stored = pins.PinHash(row["pin_hash"], row["pin_salt"], row["pin_params"])
    if not await asyncio.to_thread(pins.pin_matches, pin, stored):
        failures = row["failed_attempts"] + 1
        wait = pins.delay_after(failures)
        until = (moment + timedelta(seconds=wait)).isoformat(timespec="milliseconds") if wait else None
        await tx.execute(
            f"UPDATE operators SET failed_attempts = ?, locked_until = ? WHERE {same_nocase(tx, 'name')}",
            (failures, until, name),
        )
        await tx.audit(
            "operator.sign_in_failed", subject, why="wrong_pin", terminal=terminal, failures=failures, wait_s=wait
        )
        return SignInRefused(name, "wrong_pin", wait)
    await tx.execute(
        f"UPDATE operators SET failed_attempts = 0, locked_until = NULL WHERE {same_nocase(tx, 'name')}", (name,)
    )
    if row["pin_params"] != pins.CURRENT.encode() and await _may_write_pins(tx):  # stronger parameters since
        fresh = await asyncio.to_thread(pins.hash_pin, pin)
        await tx.execute(
            f"UPDATE operators SET pin_hash = ?, pin_salt = ?, pin_params = ? WHERE {same_nocase(tx, 'name')}",
            (fresh.hash_hex, fresh.salt_hex, fresh.params, name),
        )
    await tx.audit(
        "operator.signed_in",
        subject,
        actor=name,
        role=row["role"],
        terminal=terminal,
        after_failures=row["failed_attempts"],
    )
    return SignedIn(name, row["role"])


async def sign_out(store: Store, who: SignedIn, why: str) -> None:
    """The console locked (`why` = "idle") or the operator left (`why` = "signed_out"): audited."""
    async with store.transaction(who.name) as tx:
        await tx.audit("operator.signed_out", f"operator:{who.name}", why=why)
