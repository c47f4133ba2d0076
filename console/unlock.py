"""Applying the centre's signed unlock grant (files.md): every check, then all of it or nothing.

The checks run cheapest and most telling first: the file's size, its JSON, format and exact shape, the key
and the signature, this station, the validity window; then, inside the one write transaction that also applies
it, the nonce, the report and each NIK. A rejected grant changes nothing; the rejection alone is written to the
audit log (`grant.rejected`, with the check that failed), because an attempt to unlock is itself worth keeping.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from stat import S_ISREG
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from console import locks, reports
from console.canonical import canonical_bytes, canonical_json
from console.clock import now as clock_now
from console.errors import ConfigError, GrantRejectedError, RefusedError, UsageError
from console.formats import moment, os_error
from console.i18n import t
from console.operators import SUPERVISOR, require_role
from console.store import Store

GRANT_FORMAT = "ktpel-central/unlock/1"
MAX_GRANT_BYTES = 1024 * 1024  # some 50,000 NIKs: far more than an allocation holds
CLOCK_SKEW = timedelta(minutes=5)  # how far in the future `issued_at` may lie: the two clocks differ a little

TOP_FIELDS = ("format", "grant", "key_id", "signature")
GRANT_FIELDS = ("station_id", "report_id", "niks", "issued_at", "expires_at", "nonce")
HEX64 = re.compile(r"[0-9a-f]{64}\Z")  # \Z, not $: `$` lets a final newline in
KEY_ID = re.compile(r"[0-9a-f]{16}\Z")
NONCE = re.compile(r"[0-9a-f]{16,128}\Z")
NIK = re.compile(r"[0-9]{16}\Z")
NIKS_NAMED = 20  # NIKs named in a refusal; the rest are counted


class GrantRejected(GrantRejectedError):
    """A grant that failed one check: `check` names it (audited), the message says it for people."""

    def __init__(self, check: str, why: str | None = None, **detail: Any) -> None:
        detail = {name: _printable(value) for name, value in detail.items()}
        super().__init__(t("grant.rejected", why=why or t(f"grant.check.{check}", **detail)))
        self.check = check
        self.detail = detail


def _printable(value: Any) -> str:
    """A value from a hostile file, safe to print and to audit: a lone surrogate becomes its escape."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


# ---------------------------------------------------------------------------------------------- keys


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """Hex of the first 8 bytes of SHA-256 of the raw 32-byte Ed25519 public key (RFC 8032 encoding)."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:8].hex()


@dataclass(frozen=True)
class CentralKey:
    key_id: str
    public_key: Ed25519PublicKey
    path: Path


def load_central_keys(paths: tuple[Path, ...] | list[Path]) -> dict[str, CentralKey]:
    """The centre's public keys of `central.public_keys`, by key_id. A file that is not one is a config error."""
    keys: dict[str, CentralKey] = {}
    for path in paths:
        try:
            key = load_pem_public_key(Path(path).read_bytes())
        except OSError as exc:
            raise ConfigError(t("unlock.key_unreadable", path=path, why=os_error(exc))) from None
        except ValueError:
            raise ConfigError(t("unlock.key_not_pem", path=path)) from None
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigError(t("unlock.key_not_ed25519", path=path, kind=type(key).__name__))
        keys[key_id_of(key)] = CentralKey(key_id_of(key), key, Path(path))
    return keys


# ---------------------------------------------------------------------------------------------- the document


@dataclass(frozen=True)
class Grant:
    """A grant whose shape was checked: fields present, of the right types and forms."""

    document: dict[str, Any]
    station_id: str
    report_id: str
    niks: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    nonce: str
    key_id: str
    signature: bytes

    @property
    def body(self) -> dict[str, Any]:
        return self.document["grant"]


def read_grant_file(path: Path) -> bytes:
    """The file's bytes; a file over the size limit is refused without being read whole."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            stat = os.fstat(f.fileno())
            if S_ISREG(stat.st_mode) and stat.st_size > MAX_GRANT_BYTES:
                raise GrantRejected("too_large", size=stat.st_size, limit=MAX_GRANT_BYTES)
            data = f.read(MAX_GRANT_BYTES + 1)  # a pipe or device has no size: read no more than the limit
    except (FileNotFoundError, IsADirectoryError):
        raise UsageError(t("unlock.no_file", path=path)) from None
    except OSError as exc:
        raise UsageError(t("unlock.unreadable", path=path, why=os_error(exc))) from None
    if len(data) > MAX_GRANT_BYTES:
        raise GrantRejected("too_large", size=f"> {MAX_GRANT_BYTES}", limit=MAX_GRANT_BYTES)
    return data


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise GrantRejected("duplicate_field", field=key)
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise GrantRejected("not_json", where=name)


def _exact_fields(obj: Any, expected: tuple[str, ...], where: str) -> None:
    if not isinstance(obj, dict):
        raise GrantRejected("wrong_type", field=where, expected="object")
    missing = [f for f in expected if f not in obj]
    if missing:
        raise GrantRejected("missing_field", field=", ".join(f"{where}{f}" for f in missing))
    extra = sorted(f for f in obj if f not in expected)
    if extra:
        raise GrantRejected("extra_field", field=", ".join(f"{where}{f}" for f in extra))


def _string(obj: dict[str, Any], name: str, where: str = "") -> str:
    value = obj[name]
    if not isinstance(value, str):
        raise GrantRejected("wrong_type", field=where + name, expected="string")
    return value


def _matching(value: str, pattern: re.Pattern[str], field: str, form: str) -> str:
    if not pattern.match(value):
        raise GrantRejected("bad_value", field=field, form=form)
    return value


def _instant(value: str, field: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None or "T" not in value:
        raise GrantRejected("bad_value", field=field, form="YYYY-MM-DDThh:mm:ss+hh:mm")
    return instant


@dataclass(frozen=True)
class Envelope:
    """The outside of a grant, enough to check its signature: the signed `grant` object and its signed bytes."""

    document: dict[str, Any]
    body: dict[str, Any]
    signed: bytes
    key_id: str
    signature: bytes


def parse_envelope(data: bytes) -> Envelope:
    """JSON, format, top-level shape, key id and signature form: in time linear in the file, nothing else yet.

    Whatever the file holds (deep nesting, a lone surrogate escaped as `\\ud800`), the outcome is a rejection.
    """
    try:
        document = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise GrantRejected("not_utf8", position=exc.start) from None
    except json.JSONDecodeError as exc:
        raise GrantRejected("not_json", where=f"{exc.lineno}:{exc.colno}") from None
    except RecursionError:
        raise GrantRejected("too_deep") from None
    if isinstance(document, dict) and isinstance(document.get("format"), str) and document["format"] != GRANT_FORMAT:
        raise GrantRejected("format", found=document["format"][:60], expected=GRANT_FORMAT)
    _exact_fields(document, TOP_FIELDS, "")
    _string(document, "format")
    body = document["grant"]
    if not isinstance(body, dict):
        raise GrantRejected("wrong_type", field="grant", expected="object")
    key_id = _matching(_string(document, "key_id"), KEY_ID, "key_id", "16 hex")
    try:
        signature = base64.b64decode(_string(document, "signature"), validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != 64:
        raise GrantRejected("bad_value", field="signature", form="base64, 64 bytes")
    try:
        signed = canonical_bytes(body)
    except UnicodeEncodeError:
        raise GrantRejected("not_unicode") from None
    except RecursionError:
        raise GrantRejected("too_deep") from None
    return Envelope(document, body, signed, key_id, signature)


def verify_signature(envelope: Envelope, keys: dict[str, CentralKey]) -> CentralKey:
    if not keys:
        raise GrantRejected("no_keys")
    key = keys.get(envelope.key_id)
    if key is None:
        raise GrantRejected("unknown_key", key_id=envelope.key_id, known=", ".join(sorted(keys)))
    try:
        key.public_key.verify(envelope.signature, envelope.signed)
    except InvalidSignature:
        raise GrantRejected("bad_signature", key_id=envelope.key_id) from None
    return key


def parse_grant(envelope: Envelope) -> Grant:
    """The signed grant's exact shape (fields, types, forms), checked once its signature verified."""
    body = envelope.body
    _exact_fields(body, GRANT_FIELDS, "grant.")
    station_id = _string(body, "station_id", "grant.")
    report_id = _matching(_string(body, "report_id", "grant."), HEX64, "grant.report_id", "64 hex")
    nonce = _matching(_string(body, "nonce", "grant."), NONCE, "grant.nonce", "16-128 hex")
    issued_at = _instant(_string(body, "issued_at", "grant."), "grant.issued_at")
    expires_at = _instant(_string(body, "expires_at", "grant."), "grant.expires_at")
    niks = body["niks"]
    if not isinstance(niks, list) or not all(isinstance(n, str) for n in niks):
        raise GrantRejected("wrong_type", field="grant.niks", expected="list of strings")
    if not niks:
        raise GrantRejected("bad_value", field="grant.niks", form="≥ 1 NIK")
    for nik in niks:
        _matching(nik, NIK, "grant.niks", "16 digits")
    duplicated = sorted(n for n, times in Counter(niks).items() if times > 1)  # linear in the number of NIKs
    if duplicated:
        raise GrantRejected("duplicate_nik", nik=", ".join(duplicated[:NIKS_NAMED]))
    if expires_at <= issued_at:
        raise GrantRejected("window", issued=body["issued_at"], expires=body["expires_at"])
    return Grant(envelope.document, station_id, report_id, tuple(niks), issued_at, expires_at, nonce,
                 envelope.key_id, envelope.signature)  # fmt: skip


def check_and_parse(data: bytes, keys: dict[str, CentralKey]) -> Grant:
    """Every check of the file alone, the signature before the grant's content: CPU-bound, run off the event loop."""
    envelope = parse_envelope(data)
    verify_signature(envelope, keys)
    return parse_grant(envelope)


def check_window(grant: Grant, now: datetime) -> None:
    # Said in the station's time; the audit keeps the file's own words.
    if now >= grant.expires_at:
        why = t("grant.check.expired", expires=moment(grant.expires_at))
        raise GrantRejected("expired", why, expires=grant.body["expires_at"])
    if grant.issued_at > now + CLOCK_SKEW:
        why = t("grant.check.not_yet_valid", issued=moment(grant.issued_at))
        raise GrantRejected("not_yet_valid", why, issued=grant.body["issued_at"])


# ---------------------------------------------------------------------------------------------- applying


@dataclass(frozen=True)
class AppliedGrant:
    nonce: str
    report_id: str
    allocation_id: str
    key_id: str
    niks: tuple[str, ...]
    unlock_ids: tuple[int, ...]
    expires_at: str
    applied_at: str


# The grant's NIKs as a table (value, key = position), one parameter whatever their number: a JSON array on
# SQLite, an array on PostgreSQL
_LIST_OF_NIKS = {
    "sqlite": "json_each(?) AS g",
    "postgresql": "unnest(CAST(? AS text[])) WITH ORDINALITY AS g (value, key)",
}


async def _check_niks(tx: Any, grant: Grant, report: dict[str, Any]) -> None:
    """Each NIK was reported bad in this report, and the card that locks it now is the very card the report listed
    (by job, not by counter: counters repeat across printers). Every NIK that fails is named, with why."""
    reported_bad = {card["nik"] for card in report["bad"]}
    rows = await tx.fetchall(
        "SELECT g.value AS nik, l.unlocked_at, l.job_id, j.state, j.card_counter, j.printer_serial, "
        "EXISTS (SELECT 1 FROM report_cards c WHERE c.report_id = ? AND c.job_id = l.job_id) AS listed "
        f"FROM {_LIST_OF_NIKS[tx.dialect]} LEFT JOIN nik_locks l ON l.nik = g.value LEFT JOIN jobs j "
        "ON j.id = l.job_id ORDER BY g.key",
        (grant.report_id, list(grant.niks) if tx.dialect == "postgresql" else json.dumps(list(grant.niks))),
    )
    refused: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        nik = row["nik"]
        lock = await locks.refusal(tx, nik)  # the one rule: what closes the NIK now, if anything
        if nik not in reported_bad:
            refused.append(("nik_not_bad", {"nik": nik, "report": grant.report_id[:12]}))
        elif lock is None or lock.code != "locked":
            refused.append(("nik_not_locked", {"nik": nik}))
        elif not row["listed"] or row["state"] != "done_bad":
            refused.append(
                (
                    "nik_printed_since",
                    {
                        "nik": nik,
                        "counter": row["card_counter"],
                        "serial": row["printer_serial"] or "?",
                        "report": grant.report_id[:12],
                    },
                )
            )
    if refused:
        named = "; ".join(t(f"grant.check.{check}", **detail) for check, detail in refused[:NIKS_NAMED])
        more = len(refused) - NIKS_NAMED
        named += t("grant.niks_more", count=more) if more > 0 else ""
        by_check = {check: " ".join(d["nik"] for c, d in refused if c == check) for check, _ in refused}
        raise GrantRejected(refused[0][0], t("grant.check.niks_refused", count=len(refused), niks=named), **by_check)


async def _apply_checked(
    store: Store, data: bytes, station_id: str, keys: dict[str, CentralKey], actor: str, now: datetime
) -> AppliedGrant:
    grant = await asyncio.to_thread(check_and_parse, data, keys)
    if grant.station_id != station_id:
        raise GrantRejected("other_station", found=grant.station_id[:60], ours=station_id)
    check_window(grant, now)
    async with store.transaction(actor) as tx:
        used = await tx.fetchone("SELECT applied_at FROM grants WHERE nonce = ?", (grant.nonce,))
        if used is not None:
            raise GrantRejected("nonce_used", nonce=grant.nonce, applied=used["applied_at"])
        report = await reports.get_report(tx, grant.report_id)
        if report is None or report.get("station_id") != station_id:
            raise GrantRejected("unknown_report", report=grant.report_id)
        await _check_niks(tx, grant, report)
        at = now.isoformat(timespec="milliseconds")
        await tx.execute(
            "INSERT INTO grants (nonce, report_id, key_id, applied_at, body) VALUES (?, ?, ?, ?, ?)",
            (grant.nonce, grant.report_id, grant.key_id, at, canonical_json(grant.document)),
        )
        await tx.audit(
            "grant.applied",
            grant.report_id,
            nonce=grant.nonce,
            key_id=grant.key_id,
            niks=list(grant.niks),
            issued_at=grant.body["issued_at"],
            expires_at=grant.body["expires_at"],
        )
        unlock_ids = []
        for nik in grant.niks:
            unlock_id = await tx.insert(
                "INSERT INTO unlocks (nik, grant_nonce, unlocked_at) VALUES (?, ?, ?)", (nik, grant.nonce, at)
            )
            await locks.unlock(tx, nik, unlock_id, at)
            unlock_ids.append(unlock_id)
    return AppliedGrant(
        grant.nonce,
        grant.report_id,
        report["allocation"]["id"],
        grant.key_id,
        grant.niks,
        tuple(unlock_ids),
        grant.body["expires_at"],
        at,
    )


async def _audit_rejection(
    store: Store, actor: str, rejected: GrantRejected, data: bytes | None, source: str | None
) -> None:
    nonce = None
    if data is not None:
        try:
            nonce = json.loads(data)["grant"]["nonce"]
        except Exception:  # whatever the rejected file holds, the audit entry is written
            nonce = None
    async with store.transaction(actor) as tx:
        await tx.audit(
            "grant.rejected",
            nonce if isinstance(nonce, str) and NONCE.match(nonce) else None,
            check=rejected.check,
            detail=rejected.detail,
            file=None if source is None else _printable(source),
            sha256=hashlib.sha256(data).hexdigest() if data is not None else None,
        )


async def _may_apply(store: Store) -> None:
    """On a ledger the ledger's owner (the regency's desk) applies the centre's grants: a station's role may not
    write grants nor unlocks (PostgreSQL cannot check an Ed25519 signature, so it is held to the owner's word).
    Said before the file is read: nothing is changed, nothing audited."""
    if store.dialect == "postgresql" and not await store.scalar(
        "SELECT has_table_privilege('public.grants', 'INSERT')"
    ):
        raise RefusedError(t("unlock.ledger_owner_only", station=store.station_id))


async def apply_grant(
    store: Store,
    data: bytes,
    *,
    station_id: str,
    keys: dict[str, CentralKey],
    actor: str,
    now: datetime | None = None,
    source: str | None = None,
) -> AppliedGrant:
    """Check the grant in `data` and apply it: each NIK unlocked for exactly one reprint.

    Raises GrantRejected (exit 6) naming the failed check; then only the audit entry `grant.rejected` is written.
    """
    await require_role(store, actor, SUPERVISOR, "unlock")
    await _may_apply(store)
    try:
        return await _apply_checked(store, data, station_id, keys, actor, now or clock_now())
    except GrantRejected as rejected:
        await _audit_rejection(store, actor, rejected, data, source)
        raise


async def apply_grant_file(
    store: Store, path: Path, *, station_id: str, keys: dict[str, CentralKey], actor: str, now: datetime | None = None
) -> AppliedGrant:
    try:
        data = await asyncio.to_thread(read_grant_file, path)
    except GrantRejected as rejected:
        await _audit_rejection(store, actor, rejected, None, str(path))
        raise
    return await apply_grant(store, data, station_id=station_id, keys=keys, actor=actor, now=now, source=str(path))
