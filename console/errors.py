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
    """An error meant for the operator: one clear sentence, and the exit status it maps to. A kind of error names
    its status in its class line (`class X(StationError, exit_code=EXIT_…)`); without one it keeps its base's.
    `hint` names the advice that follows it (`console.hints`): a command on the command line, a key in the
    consoles."""

    exit_code = EXIT_UNEXPECTED

    def __init_subclass__(cls, exit_code: int | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if exit_code is not None:
            cls.exit_code = exit_code

    def __init__(self, *args: object, hint: str | None = None) -> None:
        super().__init__(*args)
        self.hint = hint


class ConfigError(StationError, exit_code=EXIT_USAGE):
    """The configuration file is missing, unreadable, or holds a value the station cannot use."""


class UsageError(StationError, exit_code=EXIT_USAGE):
    """The command was given wrong: a bad argument, a file that cannot be read, input that is not what it says."""


class RefusedError(StationError, exit_code=EXIT_REFUSED):
    """A rule refused the request: a locked NIK, untagged cards, books that do not balance, a held printer."""


class DatabaseError(StationError, exit_code=EXIT_USAGE):
    """The database file is not ours, is damaged, or is newer than this program."""


class LedgerUnreachable(DatabaseError):
    """The regency ledger does not answer (the server is down or the link is cut): what was not committed is not
    known to be, and nothing may go on as if it were. The store connects again at its next use."""


class AuditBrokenError(StationError, exit_code=EXIT_AUDIT_BROKEN):
    """The audit log's chain is broken, or the database is behind its head file (put back from a copy)."""


class GrantRejectedError(StationError, exit_code=EXIT_GRANT_REJECTED):
    """The centre's grant failed one of its checks: nothing of it was applied."""


class PrinterStoppedError(StationError, exit_code=EXIT_PRINTER_FAULT):
    """The printer stopped on a fault the operator must see to."""
