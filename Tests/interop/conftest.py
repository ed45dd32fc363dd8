"""Fixtures that start the real `tessera` binary, as a user would, on a free loopback port
with a temporary database and keys dir, and stop it with SIGTERM at the end.

With TESSERA_INTEROP_POSTGRES set (the superuser URL of a running cluster, as
`scripts/pg-cluster start` prints), every test's database is a fresh PostgreSQL database on it,
migrated with `tessera migrate` before the first server starts: the whole suite then runs
against the PostgreSQL backend. Tests that read the SQLite file itself are marked
`sqlite_only` and skipped there."""
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("TESSERA_BIN_DIR", ROOT / ".build" / "debug"))
POSTGRES = os.environ.get("TESSERA_INTEROP_POSTGRES", "")

_databases: dict[str, str] = {}


def database_for(tmp: pathlib.Path) -> str:
    """The database of a test's directory: an SQLite file in it, or (with
    TESSERA_INTEROP_POSTGRES) one fresh PostgreSQL database per directory, migrated once, so
    that servers restarted in one test share it."""
    if not POSTGRES:
        return str(tmp / "data" / "tessera.sqlite")
    key = str(tmp)
    if key not in _databases:
        name = "interop_" + uuid.uuid4().hex[:16]
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", POSTGRES, "-c", f"CREATE DATABASE {name}"],
                       check=True, capture_output=True, text=True)
        url = POSTGRES.replace("/postgres?", f"/{name}?", 1)
        migrated = subprocess.run([str(BIN_DIR / "tessera"), "migrate", "--database", url], capture_output=True, text=True,
                                  env={"PATH": os.environ.get("PATH", "")}, cwd=tmp)
        assert migrated.returncode == 0, migrated.stderr
        _databases[key] = url
    return _databases[key]


def database_rows(server, sql: str) -> list[tuple]:
    """The rows of one SELECT on the server's database, SQLite or PostgreSQL; NULL is None,
    every other value as the database prints it (SQLite's own types)."""
    database = server.env["TESSERA_DATABASE"]
    if not database.startswith("postgres"):
        import sqlite3
        with sqlite3.connect(database) as db:
            return db.execute(sql).fetchall()
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-R", "\x1d", "-P", "null=\x1eNULL", "-v", "ON_ERROR_STOP=1", "-d", database,
                          "-c", sql], check=True, capture_output=True, text=True).stdout
    return [tuple(None if v == "\x1eNULL" else v for v in line.split("\x1f")) for line in out.rstrip("\n").split("\x1d") if line]


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: reads or checks the SQLite file itself")
    config.addinivalue_line("markers", "keys_dir: checks key files in the keys dir (on PostgreSQL the keys live in the database, sealed)")


def pytest_collection_modifyitems(config, items):
    if POSTGRES:
        skip = pytest.mark.skip(reason="checks the SQLite file itself; this run is on PostgreSQL")
        keys = pytest.mark.skip(reason="checks the keys dir's files; on PostgreSQL the keys live in the database")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)
            if "keys_dir" in item.keywords:
                item.add_marker(keys)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tessera:
    """A running server: its URLs, environment and log."""

    def __init__(self, tmp: pathlib.Path, binary: str = "tessera", args=(), env=None):
        self.tmp = tmp
        self.port = free_port()
        self.management_port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TESSERA_PORT": str(self.port),
            "TESSERA_MANAGEMENT_PORT": str(self.management_port),
            "TESSERA_ISSUER": self.issuer,
            "TESSERA_DATABASE": database_for(tmp),
            "TESSERA_KEYS_DIR": str(tmp / "keys"),
            "TESSERA_BCRYPT_COST": "10",
        }
        if POSTGRES:
            # PostgreSQL keeps the keys in the database, sealed under this (a test value).
            self.env["TESSERA_KEY_ENCRYPTION_KEY"] = "dGVzc2VyYS1pbnRlcm9wLWtleS1lbmNyeXB0aW9uLWs="
        self.env.update(env or {})
        self.log_lines: list[str] = []
        command = [str(BIN_DIR / binary)] + ([] if binary != "tessera" else ["serve"]) + list(args)
        self.process = subprocess.Popen(command, cwd=tmp, env=self.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.ready = threading.Event()
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self.ready.wait(30):
            self.process.kill()
            raise RuntimeError("tessera did not become ready:\n" + "\n".join(self.log_lines))

    def _read_log(self):
        # Ready once both listeners are: the management one (unless turned off) starts beside
        # the main one, not before it.
        waiting = {"tessera ready"} | ({"management listener ready"} if self.env["TESSERA_MANAGEMENT_PORT"] != "0" else set())
        for line in self.process.stdout:
            self.log_lines.append(line.rstrip("\n"))
            waiting = {marker for marker in waiting if marker not in line}
            if not waiting:
                self.ready.set()

    def url(self, path: str) -> str:
        return self.issuer + path

    def management_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.management_port}{path}"

    def stop(self) -> int:
        """SIGTERM, then wait for the graceful exit; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -9


@pytest.fixture
def start_tessera(tmp_path):
    """Starts servers on demand; every one is stopped (and must exit 0) at the end."""
    started: list[Tessera] = []

    def start(**kwargs) -> Tessera:
        server = Tessera(tmp_path, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        assert server.stop() == 0, "\n".join(server.log_lines)


@pytest.fixture
def sink(tmp_path):
    """A real SMTP server (aiosmtpd, STARTTLS and AUTH) that keeps what it receives."""
    from mailsink import MailSink
    server = MailSink(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def tessera(start_tessera) -> Tessera:
    return start_tessera()


def sign_with_tessera(server: Tessera, claims: dict) -> str:
    """Signs `claims` with Tessera's crypto module and the server's active key (test helper)."""
    import json
    result = subprocess.run([str(BIN_DIR / "tessera-interop-signer")], input=json.dumps(claims), env=server.env,
                            cwd=server.tmp, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def honoured(probe, expected):
    """`probe()` once a change the admin CLI made is honoured: at once on SQLite (the server
    checks the file's change counters before each lookup); on PostgreSQL within the contract's
    bound of 1 s (§10.2: the server polls the change counters every cluster_sync_interval)."""
    deadline = time.time() + (1.0 if POSTGRES else 0)
    value = probe()
    while value != expected and time.time() < deadline:
        time.sleep(0.05)
        value = probe()
    return value
