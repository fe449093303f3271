"""`arena ratings`: the Bradley–Terry leaderboard from a JSONL file of battles or from the database.

Only typer is imported at module level; the engine (numpy) loads inside the command, the database layer
(SQLAlchemy, through arena.services.export) only when no file is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer


def _rows_from_database() -> list[dict[str, Any]]:
    """FastChat-style rows of the anonymous voted battles in the arena database (arena.services.export)."""
    from arena.services.export import battle_rows, database
    from arena.settings import get_settings

    with database(get_settings().database_url) as factory:
        return battle_rows(factory)


def register(app: typer.Typer) -> None:
    @app.command("ratings")
    def ratings(
        battles: Annotated[
            Path | None, typer.Option("--battles", help="FastChat-style JSONL (default: database)")
        ] = None,
        bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap rounds for the CIs")] = 100,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap")] = 0,
        anchor: Annotated[str | None, typer.Option("--anchor", help="Pin this model at 1000")] = None,
        min_votes: Annotated[int, typer.Option("--min-votes", min=0, help="Hide models with fewer votes")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON: ratings, ci, elo, votes")] = False,
        compare: Annotated[
            tuple[str, str] | None,
            typer.Option("--compare", help="Two models: P(first is better) and the votes that would settle it"),
        ] = None,
    ) -> None:
        """Bradley–Terry ratings with bootstrap 95 % CIs, FastChat ranks, and online Elo (K = 4)."""
        from arena.ratings.battles import BattleRows
        from arena.ratings.bt import leaderboard

        try:
            rows = (
                BattleRows.from_jsonl(battles)
                if battles is not None
                else BattleRows.from_records(_rows_from_database())
            )
            board = leaderboard(rows, bootstrap_rounds=bootstrap, seed=seed, anchor=anchor, min_votes=min_votes)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from exc
        if compare is not None:
            _print_comparison(board, rows, *compare, as_json=as_json)
            return
        if as_json:
            typer.echo(json.dumps(board.to_json(), indent=2))
            return
        typer.echo(f"{len(rows)} battles, {rows.n_models} models, {bootstrap} bootstrap rounds")
        typer.echo(f"{'rank':>4}  {'model':<28} {'rating':>7}  {'95% CI':>15}  {'votes':>6}  {'win %':>6}  {'elo':>7}")
        for e in board.entries:
            ci = f"{e.ci_low - e.rating:+.0f}/{e.ci_high - e.rating:+.0f}"
            typer.echo(
                f"{e.rank:>4}  {e.model:<28} {e.rating:>7.1f}  {ci:>15}  {e.votes:>6}  "
                f"{100 * e.win_rate:>6.1f}  {e.elo:>7.1f}"
            )


def _print_comparison(board: Any, rows: Any, a: str, b: str, *, as_json: bool) -> None:
    from arena.ratings.decisions import compare_models

    try:
        result = compare_models(board, rows, a, b)
    except (KeyError, ValueError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    settle = result["votes_to_settle"]
    low, high = result["gap_ci"]
    verdict = (
        "settled at 95%"
        if settle == 0
        else "too close to call"
        if settle is None
        else f"~{settle} more direct votes to settle at 95%"
    )
    typer.echo(
        f"{a} vs {b}: gap {result['rating_gap']:+.1f} (95% CI {low:+.1f} .. {high:+.1f}), "
        f"P({a} better) = {result['p_a_better']:.3f}; "
        f"head to head {result['wins']}-{result['losses']}-{result['ties']}; {verdict}"
    )
