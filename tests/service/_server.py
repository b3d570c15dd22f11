"""A real ``linewise serve`` process on a free loopback port, started, killed and started again.

For tests that need what an in-process app cannot give: a server that dies mid-request
(SIGKILL: no shutdown, no rollback but the database's own) and comes back. The server
runs the interpreter running the tests (``python -m linewise.cli.main serve``), so it
serves the same source; its output goes to a log file that a failure to start quotes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

__all__ = ["ServerProcess", "free_port"]

# Starting means importing linewise, loading the model and checking the database: a
# few seconds on a loaded machine; past this the server is taken to be broken.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """``linewise serve --model MODEL --strategy STRATEGY`` on 127.0.0.1, its settings ``env`` (LINEWISE_*).

    The test process's own LINEWISE_* variables are not passed on: ``env`` is all of
    the server's settings.

    ``start`` returns once ``GET /healthz`` answers; ``kill`` sends SIGKILL; ``stop``
    SIGTERM (SIGKILL after STOP_TIMEOUT_S). The port is kept across restarts, so a
    client's base URL stays right.
    """

    def __init__(self, *, model_dir: Path, strategy: Path, env: dict[str, str], log: Path) -> None:
        self.model_dir = model_dir
        self.strategy = strategy
        self.env = env
        self.log = log
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and wait until it answers; raise with its log if it does not."""
        assert not self.is_running, "the server is already running"
        command = [sys.executable, "-m", "linewise.cli.main", "serve", "--model", str(self.model_dir)]
        command += ["--strategy", str(self.strategy), "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=self._environment())
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not self.is_running:
                raise RuntimeError(f"linewise serve exited with {self._exit_code()}:\n{self._log_tail()}")
            if self._answers():
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"linewise serve did not answer within {START_TIMEOUT_S:.0f} s:\n{self._log_tail()}")

    def kill(self) -> None:
        """SIGKILL: the process ends at once, whatever it was doing."""
        if self._process is not None and self.is_running:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL when it does not end in time)."""
        if self._process is None or not self.is_running:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()

    def _environment(self) -> dict[str, str]:
        inherited = {name: value for name, value in os.environ.items() if not name.startswith("LINEWISE_")}
        return {**inherited, **self.env}

    def _answers(self) -> bool:
        try:
            return httpx2.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx2.TransportError:
            return False

    def _exit_code(self) -> int | None:
        return None if self._process is None else self._process.returncode

    def _log_tail(self, chars: int = 4_000) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return text[-chars:]
