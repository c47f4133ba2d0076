"""A throwaway PostgreSQL server for tests: Debian's binaries, `initdb` in a temporary folder, one per session.

It listens on a Unix socket in its own folder and on 127.0.0.1 at a free port, with `trust` authentication (only
the machine's own users can reach either). When the tests run as root, the server runs as an unprivileged user
(PostgreSQL refuses root): the `postgres` system user when there is one, else a dedicated one created here.

Settings are for speed, not durability: `fsync = off` loses data only when the machine itself crashes, so a
server stopped with `pg_ctl stop -m immediate` (a crash of PostgreSQL) still finds every committed row on
restart. `synchronous_commit` stays on for that reason: a commit has reached the operating system when it
returns."""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

SUPERUSER = "ktpel"
TEMPLATE = "ktpel_template"
DEDICATED_USER = "ktpel-pg"

SETTINGS = {
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "on",  # see the module's docstring: an immediate stop must not lose a commit
    "autovacuum": "off",
    "shared_buffers": "32MB",
    "max_connections": "200",
    "max_wal_size": "1GB",
    "checkpoint_timeout": "1h",
    "log_min_messages": "warning",
    "log_checkpoints": "off",
    "timezone": "UTC",
    "lc_messages": "C",
}


class PgUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (or no way to run them): the reason is the message."""


def find_bindir() -> Path:
    """Where `initdb`, `pg_ctl` and `postgres` are: `$PG_BINDIR`, Debian's newest `/usr/lib/postgresql/*/bin`,
    `pg_config --bindir`, or the `PATH` (a symlink there, like /usr/local/bin/initdb, is followed)."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates += [Path(d) for d in debian]
    pg_config = shutil.which("pg_config")
    if pg_config:
        done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip():
            candidates.append(Path(done.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise PgUnavailable("no PostgreSQL server found (initdb, pg_ctl, postgres): install Debian's `postgresql`")


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path))


def _server_user() -> pwd.struct_passwd | None:
    """The user the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", DEDICATED_USER):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    done = subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", DEDICATED_USER],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise PgUnavailable(f"running as root and no unprivileged user for PostgreSQL: {done.stderr.strip()}")
    return pwd.getpwnam(DEDICATED_USER)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PgServer:
    """One throwaway server. `start()` once, `database()` per test, `stop()` at the end (always)."""

    bindir: Path
    root: Path
    user: pwd.struct_passwd | None
    port: int = 0
    running: bool = False
    _databases: int = field(default=0, repr=False)
    _admin: psycopg.Connection | None = field(default=None, repr=False)

    @classmethod
    def create(cls) -> PgServer:
        """initdb in a new temporary folder (owned by the server's user); not started yet."""
        bindir = find_bindir()
        user = _server_user()
        root = Path(tempfile.mkdtemp(prefix="ktpel-pg-", dir=_traversable_tmp(user)))
        server = cls(bindir=bindir, root=root, user=user)
        try:
            if user is not None:
                os.chown(root, user.pw_uid, user.pw_gid)
            server._run("initdb", "-D", str(server.data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                        "--locale=C", "--no-sync", "--no-instructions")  # fmt: skip
            server.port = _free_port()
            with open(server.data / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write(server._conf())
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        atexit.register(server.destroy)  # a safety net: the fixture destroys it, but never leave a server behind
        return server

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def _conf(self) -> str:
        settings = dict(SETTINGS, listen_addresses="'127.0.0.1'", port=str(self.port),
                        unix_socket_directories=f"'{self.socket_dir}'")  # fmt: skip
        return "\n# tests/pgserver.py\n" + "".join(f"{key} = {value}\n" for key, value in settings.items())

    def _run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        kwargs: dict[str, object] = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        done = subprocess.run([str(self.bindir / tool), *args], capture_output=True, text=True, env=env,
                              cwd=self.root, timeout=timeout, check=False, **kwargs)  # type: ignore[call-overload]  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}"
                               f"{self._log_tail()}")  # fmt: skip
        return done

    def _log_tail(self) -> str:
        try:
            return "\nserver log:\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])
        except OSError:
            return ""

    def start(self) -> None:
        for attempt in range(3):
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
                break
            except RuntimeError:
                if attempt == 2 or "could not bind" not in self._log_tail():
                    raise
                self.port = _free_port()  # another process took the free port meanwhile: a later line wins
                with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
                    conf.write(f"port = {self.port}\n")
        self.running = True
        if not self._template_made():
            self.psql(f"CREATE DATABASE {TEMPLATE}")

    def stop(self, mode: str = "fast") -> None:
        """`mode="immediate"` is a crash of PostgreSQL: no checkpoint, the next start replays the WAL."""
        self._close_admin()
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
            self.running = False

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def destroy(self) -> None:
        """Stop (immediately: nothing is kept) and remove the folder. Safe to call more than once."""
        try:
            if self.running:
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, sql: str) -> str:
        """Run one statement in the `postgres` database over a kept connection; the first column of the first
        row as text ("" when none)."""
        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(**self.connect_kwargs("postgres"), autocommit=True)
        cur = self._admin.execute(sql)
        row = cur.fetchone() if cur.description else None
        return "" if row is None else str(row[0])

    def _close_admin(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    def _template_made(self) -> bool:
        return self.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{TEMPLATE}'") == "1"

    def database(self, template: str = TEMPLATE) -> str:
        """A new database cloned from a template (fast; by default an empty one); its name."""
        self._databases += 1
        name = f"test_{os.getpid()}_{self._databases}"
        self.psql(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        return name

    def drop(self, name: str) -> None:
        if self.running:
            self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def url(self, database: str, host: str = "127.0.0.1") -> str:
        """`postgresql://ROLE@HOST:PORT/DB`, the form `[database] url` takes (loopback TCP by default)."""
        return f"postgresql://{SUPERUSER}@{host}:{self.port}/{database}"

    def connect_kwargs(self, database: str) -> dict[str, object]:
        """Keyword arguments for `psycopg.connect` / `AsyncConnection.connect` over the Unix socket."""
        return {"host": str(self.socket_dir), "port": self.port, "user": SUPERUSER, "dbname": database}


def _traversable_tmp(user: pwd.struct_passwd | None) -> str | None:
    """The temporary folder's parent must be enterable by the server's user (root's $TMPDIR may not be)."""
    if user is None:
        return None
    tmp = Path(tempfile.gettempdir())
    for parent in (tmp, *tmp.parents):
        if not os.stat(parent).st_mode & 0o001:
            return "/tmp"
    return str(tmp)
