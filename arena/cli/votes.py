"""`arena votes export|import`: voted battles as JSONL or Parquet files (see arena.services.export).

Import-light: the services and SQLAlchemy load inside the commands.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    parquet = "parquet"


def register(app: typer.Typer) -> None:
    votes = typer.Typer(no_args_is_help=True, help="Export and import votes (FastChat-style battle rows).")
    app.add_typer(votes, name="votes")

    @votes.command("export")
    def export(
        out: Annotated[Path, typer.Option("--out", help="File to write")],
        fmt: Annotated[ExportFormat, typer.Option("--format", help="jsonl or parquet")] = ExportFormat.jsonl,
        anonymous_only: Annotated[bool, typer.Option("--anonymous-only", help="Leave named battles out")] = False,
    ) -> None:
        """Write every voted battle (IP hashes only, never IPs)."""
        from arena.services.export import database, export_votes
        from arena.settings import get_settings

        with database(get_settings().database_url) as factory:
            n = export_votes(factory, out, fmt.value, include_named=not anonymous_only)
        typer.echo(f"exported {n} voted battles to {out}")

    @votes.command("import")
    def import_(file: Annotated[Path, typer.Argument(help="A JSONL or Parquet export", exists=True)]) -> None:
        """Add the file's battles and votes; battles already present (same battle_id) are skipped."""
        from arena.services.export import database, import_votes
        from arena.settings import get_settings

        try:
            with database(get_settings().database_url) as factory:
                stats = import_votes(factory, file)
        except (OSError, ValueError) as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from exc
        typer.echo(
            f"read {stats['read']}, added {stats['added']}, skipped {stats['skipped']} already present; "
            f"new models {stats['models']} (disabled), new prompts {stats['prompts']}"
        )
