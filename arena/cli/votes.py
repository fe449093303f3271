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
        simulated: Annotated[bool, typer.Option("--simulated", help="Include simulated voters' votes")] = False,
    ) -> None:
        """Write every voted battle (IP hashes only, never IPs), streaming."""
        from arena.services.export import database, export_votes
        from arena.settings import get_settings

        settings = get_settings()
        with database(settings.database_url, settings.gold_policy) as factory:
            n = export_votes(factory, out, fmt.value, include_named=not anonymous_only, include_simulated=simulated)
        typer.echo(f"exported {n} voted battles to {out}")

    @votes.command("import")
    def import_(file: Annotated[Path, typer.Argument(help="A JSONL or Parquet export", exists=True)]) -> None:
        """Add the file's battles and votes in batches (one transaction each); battles already present (same
        battle_id) are skipped, so a stopped import resumes when run again."""
        from arena.services.export import database
        from arena.services.tallies import Tallies
        from arena.services.vote_import import import_votes
        from arena.settings import get_settings

        settings = get_settings()
        stats = {"added": 0}
        try:
            with database(settings.database_url, settings.gold_policy) as factory:
                stats = import_votes(factory, file, tallies=Tallies(settings.gold_policy))
        except (OSError, ValueError) as exc:
            typer.secho(f"error: {exc} (rows before it were stored: import again once fixed)", fg="red", err=True)
            raise typer.Exit(2) from exc
        typer.echo(
            f"read {stats['read']}, added {stats['added']}, skipped {stats['skipped']} already present; "
            f"new models {stats['models']} (disabled), new prompts {stats['prompts']}"
        )

    @votes.command("recount")
    def recount(
        check: Annotated[bool, typer.Option("--check", help="Only compare the tallies with a recount")] = False,
    ) -> None:
        """Rebuild the vote counts, voter records and Elo from the votes (or, with --check, report differences)."""
        from arena.services.export import database
        from arena.services.tallies import Tallies
        from arena.services.tally_check import check_tallies
        from arena.settings import get_settings
        from db.session import transaction

        settings = get_settings()
        with database(settings.database_url, settings.gold_policy) as factory, transaction(factory) as session:
            if check:
                problems = check_tallies(session)
                for line in problems[:20]:
                    typer.echo(line)
                typer.echo(f"{len(problems)} differences" if problems else "tallies match a recount")
                raise typer.Exit(1 if problems else 0)
            Tallies(settings.gold_policy).rebuild(session)
        typer.echo("tallies rebuilt from the votes")
