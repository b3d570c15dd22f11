"""`linewise serve`: the API over HTTP (uvicorn), deciding with the database's active strategy and model."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from linewise.cli._common import console, user_errors
from linewise.errors import InputError

# A host name (RFC 1123 labels), an IPv4 address, or an IPv6 address: what a socket binds.
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|[0-9A-Fa-f:.]{2,45}")


def _check_path(path: Path | None, option: str) -> None:
    """Refuse a path with a control character (a newline would break the one-line error that names it)."""
    if path is not None and any(ord(c) < 32 or ord(c) == 127 for c in str(path)):
        raise InputError.for_field(
            "path_malformed", where=option, field=option, rule="a path without control characters", value=str(path)
        )


def _check_host(host: str) -> str:
    if _HOST.fullmatch(host) is None:
        raise InputError.for_field(
            "host_malformed", where="--host", field="--host", rule="a host name or an IP address", value=host
        )
    return host


def serve(
    model_dir: Path | None = typer.Option(
        None,
        "--model",
        help="A model directory, used while no model is active in the database (linewise model activate).",
    ),
    strategy: Path | None = typer.Option(
        None,
        "--strategy",
        help="Strategy YAML, used while no strategy is active in the database (default: the shipped one).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="The port to listen on."),
) -> None:
    """Serve the API (docs at /docs); settings from LINEWISE_* (LINEWISE_SECRET in production).

    Decisions are made with the strategy and model active in the database, followed as
    admins activate others; --model and --strategy (or LINEWISE_MODEL_DIR,
    LINEWISE_STRATEGY_FILE) stand in for a kind none of which is active.
    """
    import uvicorn

    from linewise.service import ServiceSettings, create_app

    with user_errors():
        _check_host(host)
        _check_path(model_dir, "--model")
        _check_path(strategy, "--strategy")
        # An option left out leaves its LINEWISE_* variable in force.
        given = {"model_dir": model_dir, "strategy_file": strategy}
        settings = ServiceSettings().model_copy(update={name: p for name, p in given.items() if p is not None})
        app = create_app(settings)
    for line in app.state.services.live.active.describe():
        console.print(f"deciding with {line}")
    console.print(f"linewise API ({settings.mode}) on http://{host}:{port} (docs at /docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")
