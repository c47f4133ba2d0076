"""The station's configuration: `config.toml` read into typed, validated settings.

Every error names the file and the key, so the operator knows exactly what to fix.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.errors import ConfigError
from console.i18n import t
from drivers.protocol import RIBBONS

LANGUAGES = ("id", "en")
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class StationSettings:
    id: str = "5203-01"
    name: str = "Dukcapil Lombok Timur, loket cetak 1"
    language: str = "id"
    timezone: str = "Asia/Makassar"  # times for people are shown in this zone (WITA for East Lombok)
    regency_id: str = ""  # the regency's id on a ledger's reports and grants; "" = the station id's part before '-'

    @property
    def regency(self) -> str:
        return self.regency_id or self.id.split("-")[0]


@dataclass(frozen=True)
class DatabaseSettings:
    path: Path = Path("var/station.db")
    url: str = ""  # postgresql://ROLE@HOST:PORT/DB: the regency ledger instead of the SQLite file (never both)
    password_file: Path | None = None  # the ledger role's password; else libpq's PGPASSWORD or ~/.pgpass
    # [station] id, copied here so that whoever opens the store knows the station its rows belong to
    station_id: str = field(default=StationSettings.id, metadata={"from": "station.id"})

    @property
    def location(self) -> Path | str:
        """Where the store lives: the ledger's URL, else the SQLite file."""
        return self.url or self.path

    @property
    def ledger_head(self) -> Path | None:
        """On a ledger, where this station keeps its witness of the ledger's audit head (console/audit.py): in the
        folder the SQLite file would be in, so beside the station's other state."""
        return self.path.with_name("ledger.head") if self.url else None


@dataclass(frozen=True)
class PrinterSettings:
    port: str = "emulator"
    baudrate: int = 115200
    ribbon: str = "ko"
    reply_timeout_s: float = 45.0


@dataclass(frozen=True)
class EmulatorSettings:
    time_scale: float = 0.05
    feeder: int = 500
    faults: str = ""
    state: Path = Path("var/emulator-state.json")
    log: Path = Path("var/emulator-output.jsonl")
    cards: Path | None = None
    ribbon_prints: int = 600


@dataclass(frozen=True)
class QueueSettings:
    hopper_capacity: int = 50
    first_cards_first: bool = True  # blanks short: residents' first cards are printed before reprints


@dataclass(frozen=True)
class PlanningSettings:
    lead_time_days: int = 10  # working days from sending a request for blanks to having them at the station
    bad_rate_allocations: int = 3  # the bad-card rate is measured over this many latest allocations
    average_working_days: int = 20  # cards printed a working day: averaged over this many past working days
    recordings_per_kit_day: int = 60  # residents one recording kit records in a working day, in a village
    max_round_days: int = 3  # the longest a recording round stays in one village


@dataclass(frozen=True)
class ConsoleSettings:
    lock_after_min: int = 15  # the console locks after this many idle minutes; 0 = never


@dataclass(frozen=True)
class CentralSettings:
    public_keys: tuple[Path, ...] = ()


@dataclass(frozen=True)
class HandoverSettings:
    office: str = ""  # the office named on official papers; "" = the station's name
    place: str = "Selong"  # the place written before the date on papers
    proxies: bool = False  # may a proxy collect a resident's card (with a letter)?
    receipts: bool = False  # does the office number a receipt for each card handed over?
    remind_after_days: int = 30  # a card not collected this long after its hand-over is listed
    slips: Path = Path("var/tanda-terima")  # where a collection's receipt slip is written


@dataclass(frozen=True)
class LoggingSettings:
    file: Path = Path("var/station.log")
    level: str = "info"


@dataclass(frozen=True)
class Settings:
    source: Path
    station: StationSettings = field(default_factory=StationSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    printer: PrinterSettings = field(default_factory=PrinterSettings)
    emulator: EmulatorSettings = field(default_factory=EmulatorSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    planning: PlanningSettings = field(default_factory=PlanningSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    central: CentralSettings = field(default_factory=CentralSettings)
    handover: HandoverSettings = field(default_factory=HandoverSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)


_SECTIONS = {f.name: f for f in fields(Settings) if f.name != "source"}


def default_config_path() -> Path:
    """`./config.toml`, else the file named by STATION_CONFIG (cli.md)."""
    local = Path("config.toml")
    if local.exists():
        return local
    env = os.environ.get("STATION_CONFIG")
    return Path(env) if env else local


def load_settings(path: Path | str | None = None) -> Settings:
    path = Path(path) if path is not None else default_config_path()
    if not path.is_file():
        raise ConfigError(t("config.not_found", file=path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(t("config.not_utf8", file=path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(t("config.not_toml", file=path, why=exc)) from None
    return settings_from_dict(raw, path)


def settings_from_dict(raw: dict[str, Any], path: Path) -> Settings:
    base = path.resolve().parent
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in _SECTIONS:
            raise ConfigError(t("config.unknown_section", file=path, section=name, known=", ".join(_SECTIONS)))
        if not isinstance(value, dict):
            raise ConfigError(t("config.not_table", file=path, section=name))
        cls = _section_class(name)
        sections[name] = _build_section(cls, name, value, path, base)
    for name in _SECTIONS:
        sections.setdefault(name, _resolve_paths(_section_class(name)(), base))
    given = raw.get("database", {})
    if "url" in given and "path" in given:
        raise ConfigError(t("config.path_or_url", file=path))
    sections["database"] = replace(sections["database"], station_id=sections["station"].id)
    settings = Settings(source=path.resolve(), **sections)
    _check_values(settings, path)
    return settings


def _section_class(name: str) -> type:
    return get_type_hints(Settings)[name]


def _build_section(cls: type, section: str, values: dict[str, Any], path: Path, base: Path) -> Any:
    derived = {f.name for f in fields(cls) if "from" in f.metadata}  # set from another section, never written
    hints = {key: hint for key, hint in get_type_hints(cls).items() if key not in derived}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(t("config.unknown_key", file=path, key=f"{section}.{key}", known=", ".join(hints)))
        kwargs[key] = _coerce(hints[key], value, f"{section}.{key}", path)
    return _resolve_paths(cls(**kwargs), base)


def _coerce(hint: Any, value: Any, key: str, path: Path) -> Any:
    def wrong(expected: str) -> ConfigError:
        return ConfigError(
            t("config.wrong_type", file=path, key=key, expected=t(f"config.type.{expected}"), value=value)
        )

    if hint is str:
        if not isinstance(value, str):
            raise wrong("string")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise wrong("bool")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("int")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise wrong("number")
        return float(value)
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise wrong("path")
        return Path(value)
    if hint == Path | None:
        if not isinstance(value, str):
            raise wrong("optional_path")
        return Path(value) if value else None
    if hint == tuple[Path, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise wrong("paths")
        return tuple(Path(v) for v in value)
    raise AssertionError(f"no coercion for {hint}")  # a programming error, not a user's


def _resolve_paths(section: Any, base: Path) -> Any:
    changes: dict[str, Any] = {}
    for f in fields(section):
        value = getattr(section, f.name)
        if isinstance(value, Path) and not value.is_absolute():
            changes[f.name] = base / value
        elif isinstance(value, tuple) and value and isinstance(value[0], Path):
            changes[f.name] = tuple(v if v.is_absolute() else base / v for v in value)
    if not changes:
        return section
    return type(section)(**{f.name: changes.get(f.name, getattr(section, f.name)) for f in fields(section)})


# The keys whose value is one of a few words; the numbers' bounds, each as the test a value out of bounds fails
# (its name is the reason said).
ONE_OF: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("station.language", LANGUAGES),
    ("printer.ribbon", RIBBONS),
    ("logging.level", LOG_LEVELS),
)
OUT_OF_BOUNDS: dict[str, Any] = {
    "positive": lambda value: value <= 0,
    "not_negative": lambda value: value < 0,
    "at_least_1": lambda value: value < 1,
}
NUMBERS: tuple[tuple[str, str], ...] = (
    ("printer.baudrate", "positive"),
    ("printer.reply_timeout_s", "positive"),
    ("emulator.time_scale", "not_negative"),
    ("emulator.ribbon_prints", "not_negative"),
    ("emulator.feeder", "not_negative"),
    ("queue.hopper_capacity", "at_least_1"),
    ("planning.lead_time_days", "at_least_1"),
    ("planning.average_working_days", "at_least_1"),
    ("planning.recordings_per_kit_day", "at_least_1"),
    ("planning.max_round_days", "at_least_1"),
    ("planning.bad_rate_allocations", "at_least_1"),
    ("console.lock_after_min", "not_negative"),
    ("handover.remind_after_days", "at_least_1"),
)


def _value(s: Settings, key: str) -> Any:
    section, name = key.split(".")
    return getattr(getattr(s, section), name)


def _check_values(s: Settings, path: Path) -> None:
    def bad(key: str, why: str, **values: object) -> ConfigError:
        return ConfigError(t("config.bad_value", file=path, key=key, why=t(f"config.why.{why}", **values)))

    if not s.station.id.strip():
        raise bad("station.id", "empty")
    for key, allowed in ONE_OF:
        if _value(s, key) not in allowed:
            raise bad(key, "one_of", allowed=", ".join(allowed), value=_value(s, key))
    if not _is_zone(s.station.timezone):
        raise bad("station.timezone", "zone", value=s.station.timezone)
    if not s.printer.port.strip():
        raise bad("printer.port", "empty_port")
    if s.printer.port != s.printer.port.strip():
        raise bad("printer.port", "spaces", value=s.printer.port)
    for key, bound in NUMBERS:
        if OUT_OF_BOUNDS[bound](_value(s, key)):
            raise bad(key, bound, value=_value(s, key))
    if s.emulator.faults:  # the emulator's package (and Pillow) loads only for a config that sets faults
        from drivers.emulator.faults import FaultSpecError, parse_faults

        try:
            parse_faults(s.emulator.faults)
        except FaultSpecError as exc:
            raise bad("emulator.faults", "fault_spec", detail=exc) from None
    if s.database.url and not re.fullmatch(r"postgres(ql)?://[^:@/\s]+@[^/@\s]+/[^/?#\s]+", s.database.url):
        raise bad("database.url", "ledger_url", value=s.database.url)
    if s.database.password_file is not None and not s.database.url:
        raise bad("database.password_file", "without_url")


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
