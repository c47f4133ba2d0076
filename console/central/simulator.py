"""The centre's side of an unlock: a key pair, and grants signed for the bad NIKs of a station's report.

It reads only what it is given (its private key file, a report file), never the station's configuration.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from console.canonical import canonical_bytes, sha256_hex
from console.errors import UsageError
from console.formats import json_error, not_utf8, os_error
from console.i18n import t
from drivers.atomic_file import open_private_append, write_atomic

GRANT_FORMAT = "ktpel-central/unlock/1"
REPORT_FORMAT = "ktpel-station/report/1"
PRIVATE_NAME = "central-private.pem"
PUBLIC_NAME = "central-public.pem"
DEFAULT_EXPIRY = timedelta(days=7)
DURATION = re.compile(r"([1-9][0-9]{0,5})([dhms])\Z")
UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """Hex of the first 8 bytes of SHA-256 of the raw 32-byte Ed25519 public key."""
    return hashlib.sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).digest()[:8].hex()


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path
    key_id: str


def generate_keys(out_dir: Path) -> KeyPair:
    """A new Ed25519 key pair in `out_dir` as PEM (the private key mode 0600); an existing key is never replaced."""
    out_dir = Path(out_dir)
    private_path, public_path = out_dir / PRIVATE_NAME, out_dir / PUBLIC_NAME
    for path in (private_path, public_path):
        if path.exists():
            raise UsageError(t("central.key_exists", path=path))
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public_pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_new(private_path, private_pem, 0o600)
        _write_new(public_path, public_pem, 0o644)
    except OSError as exc:
        raise UsageError(t("central.cannot_write", path=out_dir, why=os_error(exc))) from None
    return KeyPair(private_path, public_path, key_id_of(key.public_key()))


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write a file that must not exist yet, with `mode` from the start (never readable by others meanwhile)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, mode)  # the umask may have taken bits away from the public key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as exc:
        raise UsageError(t("central.cannot_read", path=path, why=os_error(exc))) from None
    except (ValueError, TypeError):
        raise UsageError(t("central.not_private_key", path=path)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(t("central.not_private_key", path=path))
    return key


def parse_duration(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `90s`."""
    match = DURATION.match(text.strip())
    if match is None:
        raise UsageError(t("central.bad_duration", text=text))
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def sign_grant(private_key: Ed25519PrivateKey, grant: dict[str, Any]) -> dict[str, Any]:
    """The grant document: `grant` signed over its canonical JSON, with the signing key's id."""
    signature = private_key.sign(canonical_bytes(grant))
    return {
        "format": GRANT_FORMAT,
        "grant": grant,
        "key_id": key_id_of(private_key.public_key()),
        "signature": base64.b64encode(signature).decode("ascii"),
    }


def make_grant(
    private_key: Ed25519PrivateKey,
    *,
    station_id: str,
    report_id: str,
    niks: list[str],
    issued_at: datetime | None = None,
    expires_in: timedelta = DEFAULT_EXPIRY,
    nonce: str | None = None,
) -> dict[str, Any]:
    issued = (issued_at or datetime.now().astimezone()).replace(microsecond=0)
    grant = {
        "station_id": station_id,
        "report_id": report_id,
        "niks": list(niks),
        "issued_at": issued.isoformat(),
        "expires_at": (issued + expires_in).isoformat(),
        "nonce": nonce or secrets.token_hex(16),
    }
    return sign_grant(private_key, grant)


def read_report(path: Path) -> dict[str, Any]:
    """A station's report, as the centre receives it: its format, and its report_id matching its content."""
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(t("central.cannot_read", path=path, why=os_error(exc))) from None
    except UnicodeDecodeError as exc:
        raise UsageError(t("central.report_not_json", path=path, why=not_utf8(exc))) from None
    except json.JSONDecodeError as exc:
        raise UsageError(t("central.report_not_json", path=path, why=json_error(exc))) from None
    if not isinstance(report, dict) or report.get("format") != REPORT_FORMAT:
        raise UsageError(t("central.report_format", path=path, expected=REPORT_FORMAT))
    for name in ("station_id", "report_id", "bad", "good"):
        if name not in report:
            raise UsageError(t("central.report_field", path=path, field=name))
    if sha256_hex({k: v for k, v in report.items() if k != "report_id"}) != report["report_id"]:
        raise UsageError(t("central.report_altered", path=path))
    return report


def last_bad_cards(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each NIK whose last card in the report (by card counter) is bad, with that card: a NIK reprinted good since
    needs nothing."""
    last: dict[str, tuple[int, bool, dict[str, Any]]] = {}
    for verdict, cards in (("good", report["good"]), ("bad", report["bad"])):
        for card in cards:
            counter = card["card_counter"] if card["card_counter"] is not None else -1
            if card["nik"] not in last or counter > last[card["nik"]][0]:
                last[card["nik"]] = (counter, verdict == "bad", card)
    return {nik: card for nik, (_, bad, card) in sorted(last.items()) if bad}


def unlockable_niks(report: dict[str, Any]) -> list[str]:
    return list(last_bad_cards(report))


# ---------------------------------------------------------------------------------------------- the ledger
# The centre remembers which card of which station it unlocked: a NIK reported bad again in a later report by
# the same card (waiting for its reprint) is not granted twice. One JSON line per grant, beside the private key.

LEDGER_NAME = "central-ledger.jsonl"


def ledger_beside(private_key: Path) -> Path:
    return Path(private_key).with_name(LEDGER_NAME)


def card_key(station_id: str, card: dict[str, Any]) -> tuple[Any, ...]:
    """A card as the centre tells it from another: counters repeat across printers, so the printer names it too."""
    return (station_id, card["nik"], card.get("card_counter"), card.get("printer_serial"), card.get("printed_at"))


def granted_cards(ledger: Path) -> set[tuple[Any, ...]]:
    try:
        lines = Path(ledger).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return set()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(t("central.cannot_read", path=ledger, why=getattr(exc, "strerror", None) or exc)) from None
    granted: set[tuple[Any, ...]] = set()
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            granted.update(card_key(entry["station_id"], card) for card in entry["cards"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UsageError(t("central.ledger_bad", path=ledger, line=number)) from None
    return granted


def record_grant(ledger: Path, document: dict[str, Any], report: dict[str, Any]) -> None:
    """Append the grant's cards to the ledger, synced: once written, the centre never grants those cards again."""
    grant = document["grant"]
    cards = last_bad_cards(report)
    named = [cards.get(nik) or next(c for c in report["bad"] if c["nik"] == nik) for nik in grant["niks"]]
    line = json.dumps({"station_id": grant["station_id"], "report_id": grant["report_id"], "nonce": grant["nonce"],
                       "cards": named}, ensure_ascii=False, sort_keys=True)  # fmt: skip
    try:
        with open_private_append(ledger, text=True) as f:  # it holds NIKs: 0600, never through a link
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise UsageError(t("central.cannot_write", path=ledger, why=os_error(exc))) from None


@dataclass(frozen=True)
class Issued:
    document: dict[str, Any]
    already_granted: list[str]  # NIKs left out: the centre unlocked that very card before


def choose_niks(
    report: dict[str, Any], niks: list[str] | None = None, granted: Set[tuple[Any, ...]] = frozenset()
) -> tuple[list[str], list[str]]:
    """The NIKs to grant and those left out: by default the report's bad NIKs whose card the centre has not
    unlocked yet (`granted`); or `niks`, which must all be reported bad (named on purpose, e.g. to issue again a
    grant that was lost before it was applied)."""
    bad = {card["nik"] for card in report["bad"]}
    if niks:
        not_bad = [nik for nik in niks if nik not in bad]
        if not_bad:
            raise UsageError(t("central.nik_not_bad", niks=", ".join(not_bad), report=report["report_id"][:12]))
        return list(dict.fromkeys(niks)), []
    cards = last_bad_cards(report)
    skipped = [nik for nik, card in cards.items() if card_key(report["station_id"], card) in granted]
    chosen = [nik for nik in cards if nik not in skipped]
    if not chosen and skipped:
        raise UsageError(t("central.all_granted", report=report["report_id"][:12], niks=", ".join(skipped)))
    if not chosen:
        raise UsageError(t("central.nothing_to_unlock", report=report["report_id"][:12]))
    return chosen, skipped


def grant_for_report(
    report: dict[str, Any],
    private_key: Ed25519PrivateKey,
    niks: list[str] | None = None,
    expires_in: timedelta = DEFAULT_EXPIRY,
    granted: Set[tuple[Any, ...]] = frozenset(),
) -> dict[str, Any]:
    """A grant document for the NIKs `choose_niks` gives."""
    chosen, _ = choose_niks(report, niks, granted)
    return make_grant(
        private_key, station_id=report["station_id"], report_id=report["report_id"], niks=chosen, expires_in=expires_in
    )


def issue_grant(
    report: dict[str, Any],
    private_key: Ed25519PrivateKey,
    out: Path,
    ledger: Path,
    niks: list[str] | None = None,
    expires_in: timedelta = DEFAULT_EXPIRY,
) -> Issued:
    """What the centre does: choose the NIKs by its ledger, sign, write the grant file, then record it."""
    chosen, skipped = choose_niks(report, niks, granted_cards(ledger))
    document = make_grant(
        private_key, station_id=report["station_id"], report_id=report["report_id"], niks=chosen, expires_in=expires_in
    )
    write_grant(document, out)
    record_grant(ledger, document, report)
    return Issued(document, skipped)


def write_grant(document: dict[str, Any], path: Path) -> None:
    path = Path(path)
    try:
        write_atomic(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    except OSError as exc:
        raise UsageError(t("central.cannot_write", path=path, why=os_error(exc))) from None
