"""Errors the station reports to people, each with the exit status of `cli.md`."""

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_IMPORT_REJECTS = 3
EXIT_REFUSED = 4
EXIT_PRINTER_FAULT = 5
EXIT_GRANT_REJECTED = 6
EXIT_AUDIT_BROKEN = 7
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a program whose reader left


class StationError(Exception):
    """An error meant for the operator: one clear sentence, and the exit status it maps to."""

    exit_code = EXIT_UNEXPECTED


class ConfigError(StationError):
    exit_code = EXIT_USAGE


class UsageError(StationError):
    exit_code = EXIT_USAGE


class RefusedError(StationError):
    """A rule refused the request: a locked NIK, untagged cards, books that do not balance, a held printer."""

    exit_code = EXIT_REFUSED


class DatabaseError(StationError):
    """The database file is not ours, is damaged, or is newer than this program."""

    exit_code = EXIT_USAGE


class AuditBrokenError(StationError):
    exit_code = EXIT_AUDIT_BROKEN


class GrantRejectedError(StationError):
    exit_code = EXIT_GRANT_REJECTED


class PrinterStoppedError(StationError):
    exit_code = EXIT_PRINTER_FAULT
