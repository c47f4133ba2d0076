"""The station's configuration: `config.toml` read into typed, validated settings.

Every error names the file and the key, so the operator knows exactly what to fix.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from console.errors import ConfigError

LANGUAGES = ("id", "en")
RIBBONS = ("ko", "ymcko")
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class StationSettings:
    id: str = "5203-01"
    name: str = "Dukcapil Lombok Timur, loket cetak 1"
    language: str = "id"


@dataclass(frozen=True)
class DatabaseSettings:
    path: Path = Path("var/station.db")


@dataclass(frozen=True)
class PrinterSettings:
    port: str = "emulator"
    baudrate: int = 115200
    ribbon: str = "ko"
    reply_timeout_s: float = 30.0


@dataclass(frozen=True)
class EmulatorSettings:
    time_scale: float = 0.05
    feeder: int = 500
    faults: str = ""
    state: Path = Path("var/emulator-state.json")
    log: Path = Path("var/emulator-output.jsonl")
    cards: Path | None = None


@dataclass(frozen=True)
class QueueSettings:
    hopper_capacity: int = 50


@dataclass(frozen=True)
class CentralSettings:
    public_keys: tuple[Path, ...] = ()


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
    central: CentralSettings = field(default_factory=CentralSettings)
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
        raise ConfigError(f"{path}: configuration file not found; give one with --config or STATION_CONFIG")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return settings_from_dict(raw, path)


def settings_from_dict(raw: dict[str, Any], path: Path) -> Settings:
    base = path.resolve().parent
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in _SECTIONS:
            raise ConfigError(f"{path}: unknown section [{name}]; known: {', '.join(_SECTIONS)}")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: [{name}] must be a table")
        cls = _section_class(name)
        sections[name] = _build_section(cls, name, value, path, base)
    for name in _SECTIONS:
        sections.setdefault(name, _resolve_paths(_section_class(name)(), base))
    settings = Settings(source=path.resolve(), **sections)
    _check_values(settings, path)
    return settings


def _section_class(name: str) -> type:
    return get_type_hints(Settings)[name]


def _build_section(cls: type, section: str, values: dict[str, Any], path: Path, base: Path) -> Any:
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(f"{path}: unknown key {section}.{key}; known: {', '.join(hints)}")
        kwargs[key] = _coerce(hints[key], value, f"{section}.{key}", path)
    return _resolve_paths(cls(**kwargs), base)


def _coerce(hint: Any, value: Any, key: str, path: Path) -> Any:
    def wrong(expected: str) -> ConfigError:
        return ConfigError(f"{path}: {key} must be {expected}, not {value!r}")

    if hint is str:
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("a whole number")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        return float(value)
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise wrong("a non-empty path string")
        return Path(value)
    if hint == Path | None:
        if not isinstance(value, str):
            raise wrong('a path string ("" for none)')
        return Path(value) if value else None
    if hint == tuple[Path, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise wrong("a list of path strings")
        return tuple(Path(v) for v in value)
    raise AssertionError(f"no coercion for {hint}")  # a programming error, not a user's


def _resolve_paths(section: Any, base: Path) -> Any:
    changes = {}
    for f in fields(section):
        value = getattr(section, f.name)
        if isinstance(value, Path) and not value.is_absolute():
            changes[f.name] = base / value
        elif isinstance(value, tuple) and value and isinstance(value[0], Path):
            changes[f.name] = tuple(v if v.is_absolute() else base / v for v in value)
    if not changes:
        return section
    return type(section)(**{f.name: changes.get(f.name, getattr(section, f.name)) for f in fields(section)})


def _check_values(s: Settings, path: Path) -> None:
    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"{path}: {key} {why}")

    if not s.station.id.strip():
        raise bad("station.id", "must not be empty")
    if s.station.language not in LANGUAGES:
        raise bad("station.language", f"must be one of {', '.join(LANGUAGES)}, not {s.station.language!r}")
    if not s.printer.port.strip():
        raise bad("printer.port", 'must not be empty; use "emulator" for the built-in printer')
    if s.printer.baudrate <= 0:
        raise bad("printer.baudrate", f"must be positive, not {s.printer.baudrate}")
    if s.printer.ribbon not in RIBBONS:
        raise bad("printer.ribbon", f"must be one of {', '.join(RIBBONS)}, not {s.printer.ribbon!r}")
    if s.printer.reply_timeout_s <= 0:
        raise bad("printer.reply_timeout_s", f"must be positive, not {s.printer.reply_timeout_s}")
    if s.emulator.time_scale < 0:
        raise bad("emulator.time_scale", f"must be 0 or more, not {s.emulator.time_scale}")
    if s.emulator.feeder < 0:
        raise bad("emulator.feeder", f"must be 0 or more, not {s.emulator.feeder}")
    if s.queue.hopper_capacity < 1:
        raise bad("queue.hopper_capacity", f"must be at least 1, not {s.queue.hopper_capacity}")
    if s.logging.level not in LOG_LEVELS:
        raise bad("logging.level", f"must be one of {', '.join(LOG_LEVELS)}, not {s.logging.level!r}")
    for key_file in s.central.public_keys:
        if not key_file.is_file():
            raise bad("central.public_keys", f"names {key_file}, which does not exist")
