"""Fixtures that start the real `tessera` binary, as a user would, on a free loopback port
with a temporary database and keys dir, and stop it with SIGTERM at the end."""
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("TESSERA_BIN_DIR", ROOT / ".build" / "debug"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tessera:
    """A running server: its URLs, environment and log."""

    def __init__(self, tmp: pathlib.Path, binary: str = "tessera", args=(), env=None):
        self.tmp = tmp
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TESSERA_PORT": str(self.port),
            "TESSERA_ISSUER": self.issuer,
            "TESSERA_DATABASE": str(tmp / "data" / "tessera.sqlite"),
            "TESSERA_KEYS_DIR": str(tmp / "keys"),
            "TESSERA_BCRYPT_COST": "10",
        }
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
        for line in self.process.stdout:
            self.log_lines.append(line.rstrip("\n"))
            if "tessera ready" in line:
                self.ready.set()

    def url(self, path: str) -> str:
        return self.issuer + path

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
def tessera(start_tessera) -> Tessera:
    return start_tessera()


def sign_with_tessera(server: Tessera, claims: dict) -> str:
    """Signs `claims` with Tessera's crypto module and the server's active key (test helper)."""
    import json
    result = subprocess.run([str(BIN_DIR / "tessera-interop-signer")], input=json.dumps(claims), env=server.env,
                            cwd=server.tmp, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
