"""`linewise serve`: the API over HTTP (uvicorn), with the model and strategy decisions use."""

from __future__ import annotations

from pathlib import Path

import typer

from linewise.cli._common import console, user_errors


def serve(
    model_dir: Path = typer.Option(..., "--model", help="A model directory (linewise model train)."),
    strategy: Path | None = typer.Option(None, "--strategy", help="Strategy YAML (default: the shipped one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="The port to listen on."),
) -> None:
    """Serve the API (docs at /docs); settings from LINEWISE_* (LINEWISE_SECRET in production)."""
    import uvicorn

    from linewise.service import ServiceSettings, create_app

    with user_errors():
        settings = ServiceSettings(model_dir=model_dir, strategy_file=strategy)
        app = create_app(settings)
    console.print(f"linewise API ({settings.mode}) on http://{host}:{port} (docs at /docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")
