"""Operators' PINs and passphrases: the rules a new one must meet, its slow salted hash, and how long a wrong one
makes the next attempt wait. Pure functions: no database, no clock, no sleeping (`operators.py` does those).

The hash is the standard library's scrypt; its parameters are stored beside each hash, so that they can be raised
later without locking anyone out (a sign-in with older parameters stores the hash again with the current ones).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from itertools import pairwise

MIN_PIN_DIGITS = 6
MIN_PASSPHRASE_CHARS = 10
MAX_SECRET_CHARS = 128
# Passphrases long enough yet refused: what people type first when asked for one.
COMMON = frozenset(
    {
        "qwertyuiop",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "password123",
        "passw0rd123",
        "katasandi123",
        "rahasia123",
        "indonesia123",
        "bismillah123",
    }
)

FREE_FAILURES = 2  # a slip of the finger or two costs nothing
FIRST_DELAY_S = 5.0
MAX_DELAY_S = 300.0


@dataclass(frozen=True)
class ScryptParams:
    n: int = 2**14  # 16 MiB of memory, about 50 ms on the station's PC
    r: int = 8
    p: int = 1
    length: int = 32

    def encode(self) -> str:
        return f"scrypt:n={self.n},r={self.r},p={self.p},len={self.length}"

    @classmethod
    def decode(cls, text: str) -> ScryptParams:
        scheme, _, rest = text.partition(":")
        if scheme != "scrypt":
            raise ValueError(f"unknown PIN hash scheme {scheme!r}")
        values = dict(part.split("=", 1) for part in rest.split(","))
        return cls(n=int(values["n"]), r=int(values["r"]), p=int(values["p"]), length=int(values["len"]))


CURRENT = ScryptParams()


@dataclass(frozen=True)
class PinHash:
    hash_hex: str
    salt_hex: str
    params: str


def weakness(secret: str, name: str = "") -> str | None:
    """Why `secret` may not be used (a catalogue key under `operator.pin_weak.`), or None when it may."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in secret):
        return "control"
    if len(secret) > MAX_SECRET_CHARS:
        return "too_long"
    if secret.isascii() and secret.isdigit():
        if len(secret) < MIN_PIN_DIGITS:
            return "short_pin"
        if _repeats_a_short_pattern(secret) or _is_a_run(secret):
            return "trivial"
        return None
    if len(secret) < MIN_PASSPHRASE_CHARS:
        return "short_passphrase"
    folded = secret.casefold()
    if folded in COMMON or _repeats_a_short_pattern(folded) or (name and name.casefold() in folded):
        return "trivial"
    return None


def _repeats_a_short_pattern(text: str) -> bool:
    """000000, 121212, 123123, abcabcabca: a pattern of up to three characters, repeated."""
    return any(text == (text[:size] * (len(text) // size + 1))[: len(text)] for size in (1, 2, 3))


def _is_a_run(digits: str) -> bool:
    """123456, 987654, 234567890: each digit one more (or one less) than the one before, wrapping at 9."""
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(digits)}
    return steps in ({1}, {9})


def hash_pin(secret: str, params: ScryptParams = CURRENT, salt: bytes | None = None) -> PinHash:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = _scrypt(secret, salt, params)
    return PinHash(digest.hex(), salt.hex(), params.encode())


def pin_matches(secret: str, stored: PinHash) -> bool:
    digest = _scrypt(secret, bytes.fromhex(stored.salt_hex), ScryptParams.decode(stored.params))
    return hmac.compare_digest(digest.hex(), stored.hash_hex)


def _scrypt(secret: str, salt: bytes, params: ScryptParams) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        dklen=params.length,
        maxmem=256 * params.n * params.r + (1 << 20),
    )


def delay_after(failures: int) -> float:
    """Seconds before the next attempt may be made, after `failures` wrong PINs in a row: nothing for the first
    FREE_FAILURES, then 5 s doubling to at most 5 minutes (a six-digit PIN then takes years to guess)."""
    if failures <= FREE_FAILURES:
        return 0.0
    return min(FIRST_DELAY_S * 2 ** (failures - FREE_FAILURES - 1), MAX_DELAY_S)
