"""`arena serve-model`: serve one model of the models file over the arena's HTTP protocol."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from arena.cli.models import ModelsFileOpt, _catalog


def register(app: typer.Typer) -> None:
    @app.command("serve-model")
    def serve_model(
        model_id: str,
        host: Annotated[str, typer.Option("--host", help="Interface to bind")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8100,
        token_env: Annotated[
            str | None, typer.Option("--token-env", help="Environment variable holding the bearer token")
        ] = None,
        models_file: ModelsFileOpt = None,
        log_level: Annotated[str, typer.Option("--log-level")] = "info",
    ) -> None:
        """Serve MODEL_ID at http://HOST:PORT/v1/generate (protocol: docs/http-protocol.md)."""
        from adapters.errors import ConfigError
        from adapters.http_server import serve

        token = None
        if token_env:
            token = os.environ.get(token_env)
            if not token:
                typer.secho(f"--token-env {token_env}: the variable is not set or empty", fg="red", err=True)
                raise typer.Exit(2)
        elif host not in ("127.0.0.1", "localhost", "::1"):
            typer.secho(f"warning: serving on {host} without a token (--token-env)", fg="yellow", err=True)
        catalog = _catalog(models_file)
        try:
            adapter = catalog.build(model_id)
        except (KeyError, ConfigError, ImportError) as exc:
            typer.secho(str(exc).strip("'\""), fg="red", err=True)
            raise typer.Exit(2) from exc
        availability = adapter.check()
        if not availability.ok:
            typer.secho(f"{model_id}: {availability.detail}", fg="red", err=True)
            raise typer.Exit(1)
        typer.echo(f"serving {model_id} ({adapter.kind}) on http://{host}:{port}; auth: {'token' if token else 'none'}")
        serve(adapter, host=host, port=port, token=token, log_level=log_level)
