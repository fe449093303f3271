"""`arena ratings`: the Bradley–Terry leaderboard from a JSONL file of battles or from the database.

From the database the board is the arena's own (arena.services.leaderboard): anonymous votes, gold-pair
battles left out, sessions weighted by the gold policy, and the configured anchor, minimum votes and bootstrap
rounds unless given here, so `arena ratings --json` agrees with GET /api/leaderboard. Only typer is imported at
module level; the engine (numpy) loads inside the command, the database layer (SQLAlchemy) only when no file
is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from arena.ratings import BattleRows, Leaderboard

FILE_BOOTSTRAP = 100  # rounds for a file when --bootstrap is not given (the database uses the settings')


def _board_from_database(
    bootstrap: int | None, seed: int, anchor: str | None, min_votes: int | None
) -> tuple[BattleRows, Leaderboard, int]:
    """The board's rows and fit from the arena database, exactly as the leaderboard service computes them."""
    from arena.services.leaderboard import LeaderboardService
    from arena.settings import get_settings
    from db.session import make_engine, make_session_factory, upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        snap = LeaderboardService(make_session_factory(engine), settings).snapshot()
    finally:
        engine.dispose()
    rounds = settings.bootstrap_rounds if bootstrap is None else bootstrap
    threshold = settings.min_votes if min_votes is None else min_votes
    rows, board = snap.fit(min_votes=threshold, bootstrap_rounds=rounds, seed=seed, anchor=anchor)
    return rows, board, rounds


def register(app: typer.Typer) -> None:
    @app.command("ratings")
    def ratings(
        battles: Annotated[
            Path | None, typer.Option("--battles", help="FastChat-style JSONL (default: database)")
        ] = None,
        bootstrap: Annotated[
            int | None,
            typer.Option(
                "--bootstrap", min=0, help=f"Bootstrap rounds for the CIs (default: settings; file: {FILE_BOOTSTRAP})"
            ),
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap")] = 0,
        anchor: Annotated[
            str | None, typer.Option("--anchor", help="Pin this model at 1000 (default: settings' anchor_model)")
        ] = None,
        min_votes: Annotated[
            int | None,
            typer.Option("--min-votes", min=0, help="Hide models with fewer votes (default: settings; file: 0)"),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON: ratings, ci, elo, votes")] = False,
        compare: Annotated[
            tuple[str, str] | None,
            typer.Option("--compare", help="Two models: P(first is better) and the votes that would settle it"),
        ] = None,
    ) -> None:
        """Bradley–Terry ratings with bootstrap 95 % CIs, FastChat ranks, and online Elo (K = 4)."""
        from arena.ratings.battles import BattleRows
        from arena.ratings.bt import leaderboard

        if compare is not None and min_votes is None:
            min_votes = 0  # a comparison needs both models fitted and shown, however few their votes
        try:
            if battles is None:
                rows, board, rounds = _board_from_database(bootstrap, seed, anchor, min_votes)
            else:
                rows = BattleRows.from_jsonl(battles)
                rounds = FILE_BOOTSTRAP if bootstrap is None else bootstrap
                board = leaderboard(rows, bootstrap_rounds=rounds, seed=seed, anchor=anchor, min_votes=min_votes or 0)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from exc
        if compare is not None:
            _print_comparison(board, rows, *compare, as_json=as_json)
            return
        if as_json:
            typer.echo(json.dumps(board.to_json(), indent=2))
            return
        typer.echo(f"{rows.total} battles, {rows.n_models} models, {rounds} bootstrap rounds")
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
