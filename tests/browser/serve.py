"""The service on a real uvicorn server, for the browser tests: ``python -m tests.browser.serve DB MODEL STRATEGY``.

It binds a free loopback port itself and prints it on the first line of its output,
so the test that started it knows where to go, with no race for the port. Its clock
is the service tests' fixed one (2026-01-10 09:00 UTC).
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import uvicorn
from tests.service.conftest import NOW, SECRET

from linewise.service import ServiceSettings, create_app


def main(database_url: str, model_dir: str, strategy_file: str) -> None:
    settings = ServiceSettings(
        database_url=database_url, secret=SECRET, model_dir=Path(model_dir), strategy_file=Path(strategy_file)
    )
    app = create_app(settings, clock=lambda: NOW)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sys.stdout.write(f"{sock.getsockname()[1]}\n")
    sys.stdout.flush()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])


if __name__ == "__main__":
    main(*sys.argv[1:4])
