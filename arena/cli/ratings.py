"""`arena ratings`: the Bradley–Terry leaderboard and the verdicts, from a JSONL file of battles or the database.

From the database the board is the arena's own (arena.services.leaderboard): anonymous votes, gold-pair battles
left out, sessions weighted by the gold policy, and the configured anchor, minimum votes, bootstrap rounds and
decision rules unless given here, so `arena ratings --json` agrees with GET /api/leaderboard and
`--in-house M` with GET /api/versus. Only typer is imported at module level; the engine (numpy) loads inside
the command, the database layer (SQLAlchemy) only when no file is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from arena.ratings import BattleRows, Leaderboard
    from arena.ratings.comparisons import DecisionRules
    from arena.services.verdicts import Verdicts

DEFAULT_BOOTSTRAP = 1000  # rounds for a file when --bootstrap is not given (the database uses the settings')
DEFAULT_MIN_VOTES_FILE = 5  # the arena's default gate (settings.min_votes): applied before the fit, in every view


def _from_database(
    bootstrap: int | None, seed: int, anchor: str | None, min_votes: int | None, overrides: dict[str, Any]
) -> tuple[BattleRows, Leaderboard, int, DecisionRules, dict[str, str]]:
    """The board's rows, fit and decision rules from the arena database, exactly as the services compute them."""
    from arena.services.leaderboard import LeaderboardService
    from arena.services.verdicts import rules_from
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
    rules = rules_from(settings, **overrides, min_votes=threshold)
    return rows, board, rounds, rules, snap.names()


def register(app: typer.Typer) -> None:
    @app.command("ratings")
    def ratings(
        battles: Annotated[
            Path | None, typer.Option("--battles", help="FastChat-style JSONL (default: database)")
        ] = None,
        bootstrap: Annotated[
            int | None,
            typer.Option("--bootstrap", min=0, help=f"Bootstrap rounds (default: settings; file: {DEFAULT_BOOTSTRAP})"),
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap")] = 0,
        anchor: Annotated[
            str | None, typer.Option("--anchor", help="Pin this model at 1000 (default: settings' anchor_model)")
        ] = None,
        min_votes: Annotated[
            int | None,
            typer.Option("--min-votes", min=0, help="Leave out models with fewer votes (default: settings; file: 5)"),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON: ratings, ci, elo, votes[, versus]")] = False,
        in_house: Annotated[
            str | None, typer.Option("--in-house", help="Verdicts of this model against every other one")
        ] = None,
        by: Annotated[
            list[str] | None,
            typer.Option("--by", help="Also per category | language | prompt (repeat for combinations)"),
        ] = None,
        compare: Annotated[
            tuple[str, str] | None, typer.Option("--compare", help="Two models: the verdict between them")
        ] = None,
        alpha: Annotated[float | None, typer.Option("--alpha", min=0.0001, max=0.4999, help="Error rate")] = None,
        method: Annotated[str | None, typer.Option("--method", help="holm (default) or bh")] = None,
        margin: Annotated[float | None, typer.Option("--margin", min=0.0, help="Equivalence margin, points")] = None,
        style: Annotated[bool, typer.Option("--style", help="Also ratings with clip shape held fixed")] = False,
        ties: Annotated[
            str, typer.Option("--ties", help="half (FastChat, the board) or davidson (also Davidson's tie model)")
        ] = "half",
    ) -> None:
        """Bradley–Terry ratings with bootstrap 95 % CIs, FastChat ranks, online Elo (K = 4), and verdicts."""
        from arena.ratings.battles import BattleRows
        from arena.ratings.board import leaderboard
        from arena.ratings.comparisons import DecisionRules
        from arena.services.verdicts import group_fields

        overrides = {"alpha": alpha, "method": method, "margin": margin}
        try:
            fields = group_fields(by)
            if method not in (None, "holm", "bh"):
                raise ValueError(f"unknown method {method!r}; expected holm or bh")
            if ties not in ("half", "davidson"):
                raise ValueError(f"unknown tie model {ties!r}; expected half or davidson")
            names: dict[str, str] = {}
            if battles is None:
                rows, board, rounds, rules, names = _from_database(bootstrap, seed, anchor, min_votes, overrides)
            else:
                rows = BattleRows.from_jsonl(battles)
                rounds = DEFAULT_BOOTSTRAP if bootstrap is None else bootstrap
                threshold = DEFAULT_MIN_VOTES_FILE if min_votes is None else min_votes
                board = leaderboard(rows, bootstrap_rounds=rounds, seed=seed, anchor=anchor, min_votes=threshold)
                given = {k: v for k, v in overrides.items() if v is not None}
                rules = DecisionRules(min_votes=threshold, **given)  # type: ignore[arg-type]
            for model in [in_house, *(compare or ())]:
                if model is not None:
                    rows.index(model)  # KeyError naming the known models
            versus = _verdicts(rows, rules, in_house, compare, fields, names)
            extras = _extras(rows, names, rules.min_votes, style=style, davidson=ties == "davidson")
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from exc
        if as_json:
            out: dict[str, Any] = board.to_json()
            if versus is not None:
                # decided_at needs the votes in order: a file's order (the database's board rows are counts)
                decided = _decided(rows, versus, rules, fields) if battles is not None else {}
                out["versus"] = _entries(versus, decided)
                out["verdicts"] = {k: v for k, v in versus.to_json().items() if k not in ("rows", "names")}
            typer.echo(json.dumps({**out, **extras}, indent=2, ensure_ascii=False))
            return
        _print_board(rows, board, rounds)
        if versus is not None:
            _print_verdicts(versus)
        for name, view in extras.items():
            typer.echo(f"\n{name}: " + json.dumps(view, ensure_ascii=False))


def _verdicts(
    rows: BattleRows,
    rules: DecisionRules,
    in_house: str | None,
    compare: tuple[str, str] | None,
    fields: tuple[str, ...],
    names: dict[str, str],
) -> Verdicts | None:
    from arena.services.verdicts import verdicts_from_rows, versus_from_rows

    if compare is not None:
        if compare[0] == compare[1]:
            raise ValueError("compare two different models")
        return verdicts_from_rows(rows, [compare], rules, by=fields, names=names)
    if in_house is not None:
        return versus_from_rows(rows, in_house, rules, by=fields, names=names)
    return None


def _extras(rows: BattleRows, names: dict[str, str], min_votes: int, *, style: bool, davidson: bool) -> dict[str, Any]:
    from arena.services.rating_views import davidson_view, style_view

    out: dict[str, Any] = {}
    if style:
        out["style"] = style_view(rows, names, min_votes)
    if davidson:
        out["davidson"] = davidson_view(rows, names, min_votes)
    return out


def _decided(
    rows: BattleRows, versus: Verdicts, rules: DecisionRules, fields: tuple[str, ...]
) -> dict[Any, int | None]:
    """decided_at per (group, a, b), in row order (file order, or vote time from the database)."""
    from arena.ratings.comparisons import decided_at

    pairs = list(dict.fromkeys((r.a, r.b) for r in versus.rows))
    found = decided_at(rows, pairs, by=fields, rules=rules)
    return {(tuple(sorted(dict(cell).items())), a, b): n for (cell, a, b), n in found.items()}


def _entries(versus: Verdicts, decided: dict[Any, int | None]) -> list[dict[str, Any]]:
    from arena.services.verdicts import GROUPS

    out = []
    for r in versus.rows:
        cell = tuple(sorted((GROUPS[k], v) for k, v in r.group.items()))
        entry: dict[str, Any] = {"rival": r.b} if versus.in_house is not None else {"a": r.a, "b": r.b}
        if r.group:
            entry["group"] = r.group
        entry.update(
            decision=r.decision,
            level=r.level,
            estimate=r.estimate,
            interval=r.interval,
            votes_needed=r.votes_needed,
            decided_at=decided.get((cell, r.a, r.b)),
            wins=r.wins,
            losses=r.losses,
            ties=r.ties,
            p_value=r.p_value,
            adjusted_p=r.adjusted_p,
        )
        if r.note:
            entry["note"] = r.note
        out.append(entry)
    return out


def _print_board(rows: BattleRows, board: Leaderboard, rounds: int) -> None:
    typer.echo(f"{rows.total} battles, {rows.n_models} models, {rounds} bootstrap rounds")
    if board.hidden:
        typer.echo(f"left out (too few votes): {', '.join(board.hidden)}")
    typer.echo(f"{'rank':>4}  {'model':<28} {'rating':>7}  {'95% CI':>15}  {'votes':>6}  {'win %':>6}  {'elo':>7}")
    for e in board.entries:
        low, high = e.interval
        ci = "insufficient" if e.insufficient else f"{_off(low, e.rating)}/{_off(high, e.rating)}"
        rank = "–" if e.rank is None else str(e.rank)
        group = f" [group {e.component + 1}]" if board.n_components > 1 else ""
        typer.echo(
            f"{rank:>4}  {e.model:<28} {e.rating:>7.1f}  {ci:>15}  {e.votes:>6}  "
            f"{100 * e.win_rate:>6.1f}  {e.elo:>7.1f}{group}"
        )
    if board.n_components > 1:
        typer.echo("groups were never compared with each other: ranks and ratings hold within a group only")


def _off(bound: float | None, rating: float) -> str:
    return "open" if bound is None else f"{bound - rating:+.0f}"


def _print_verdicts(v: Verdicts) -> None:
    from arena.services.verdicts import promise

    typer.echo("")
    typer.echo(promise(v))
    for r in v.rows:
        where = ", ".join(f"{k} {val}" for k, val in r.group.items()) or "all"
        lo, hi = ("…" if x is None else f"{x:+.0f}" for x in r.interval)
        gap = "" if r.estimate is None else f"gap {r.estimate:+.0f} ({lo} .. {hi} at {100 * (r.level or 0):.2f} %)"
        plan = f"{100 * v.power:.0f} % power at a {v.power_gap:g}-point gap"
        need = "" if not r.votes_needed else f"; ~{r.votes_needed} more votes for {plan}"
        close = "; too close to call" if r.too_close else ""
        typer.echo(
            f"{r.a} vs {r.b} [{where}]: {r.decision.upper()} {gap}; record {r.wins}-{r.losses}-{r.ties}"
            f"{need}{close}{'; ' + r.note if r.note else ''}"
        )
