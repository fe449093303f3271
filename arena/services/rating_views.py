"""The board as the API and the UI show it (FastChat's convention, the default), and alternative views of the
ratings beside it: ratings with style held fixed (arena.ratings.style) and Davidson's tie model with both-bad apart
(arena.ratings.davidson). Typed JSON-ready dicts, the minimum-votes gate applied first as everywhere; no database
access."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NotRequired

from typing_extensions import TypedDict  # not typing's: pydantic (the API's schema) needs this one below 3.12

if TYPE_CHECKING:
    import pandas as pd

    from arena.ratings.battles import BattleRows
    from arena.ratings.board import Leaderboard
    from arena.services.board_rows import ModelInfo


class BoardRow(TypedDict):
    """One model on the board (the JSON API's ``/api/leaderboard`` rows)."""

    rank: int | None  # None: too few votes to rank
    model_id: str
    model: str  # display name
    organisation: str
    licence: str
    rating: float
    ci: list[float | None]  # 95 % interval; None: an open end, or no interval
    insufficient: bool
    component: int  # models in different components were never compared
    votes: int
    win_rate: float
    elo: float


class Board(TypedDict):
    """The leaderboard of one filter: its rows, and the models the minimum-votes gate left out."""

    votes: int
    min_votes: int
    rows: list[BoardRow]
    filters: dict[str, str | None]
    hidden: NotRequired[list[str]]
    components: NotRequired[int]


class Matrices(TypedDict):
    """Win fractions and battle counts between models (labelled by display name); None: no votes."""

    win_fraction: pd.DataFrame | None
    battle_count: pd.DataFrame | None


def board_view(
    board: Leaderboard | None,
    models: Mapping[str, ModelInfo],
    votes: int,
    min_votes: int,
    filters: dict[str, str | None],
) -> Board:
    """The fitted board's rows with the models' details: rank, rating with its 95 % interval, votes, win rate, Elo
    (``board`` None: no votes, no rows)."""
    view: Board = {"votes": votes, "min_votes": min_votes, "rows": [], "filters": filters}
    if board is None:
        return view
    view["hidden"], view["components"] = list(board.hidden), board.n_components
    for entry in board.entries:
        info = models.get(entry.model)
        low, high = entry.interval
        view["rows"].append(
            {
                "rank": entry.rank,
                "model_id": entry.model,
                "model": info["display_name"] if info else entry.model,
                "organisation": info["organisation"] if info else "",
                "licence": info["licence"] if info else "",
                "rating": _r(entry.rating),
                "ci": [None if low is None else _r(low), None if high is None else _r(high)],
                "insufficient": entry.insufficient,
                "component": entry.component,
                "votes": int(entry.votes),
                "win_rate": round(float(entry.win_rate), 4),
                "elo": _r(entry.elo),
            }
        )
    return view


class StyleRow(TypedDict):
    model_id: str
    model: str  # display name
    rating: float
    style_controlled: float  # the rating with style held fixed
    shift: float  # style_controlled - rating


class StyleView(TypedDict):
    rows: list[StyleRow]  # by the style-controlled rating, best first
    coefficients: dict[str, dict[str, float]]  # feature -> {"points", "se"}; "left": the left clip's advantage
    battles: int
    hidden: list[str]  # left out by the minimum-votes gate


class DavidsonRow(TypedDict):
    model_id: str
    model: str
    rating: float
    ci: list[float]  # ± 1.96 standard errors
    bothbad_share: float
    bothbad_ci: list[float]


class DavidsonView(TypedDict):
    rows: list[DavidsonRow]  # best first
    nu_tie: float | None  # the tie strength (None: fewer than two models)
    nu_bothbad: float | None  # the both-bad strength
    hidden: list[str]


def _r(x: float, digits: int = 1) -> float:
    return round(float(x), digits)


def _best_first(models: tuple[str, ...], values: Any, names: Mapping[str, str]) -> list[tuple[int, str, str]]:
    """(index, model id, display name) for each model, highest `values` first."""
    order = sorted(range(len(models)), key=lambda i: -values[i])
    return [(i, models[i], names.get(models[i], models[i])) for i in order]


def style_view(rows: BattleRows, names: Mapping[str, str], min_votes: int = 0) -> StyleView:
    """Per model the rating and the rating with style held fixed; the style coefficients (rating points per unit
    of normalised difference; `left`: the left clip's advantage in points) with standard errors."""
    from arena.ratings.battles import STYLE_FIELDS
    from arena.ratings.guards import gate
    from arena.ratings.style import FEATURES, style_control

    rows, hidden = gate(rows, min_votes)
    if rows.n_models < 2 or any(f not in rows.extra for f in STYLE_FIELDS):
        return {"rows": [], "coefficients": {}, "battles": 0, "hidden": list(hidden)}
    fit = style_control(rows)
    return {
        "rows": [
            {
                "model_id": model_id,
                "model": name,
                "rating": _r(fit.plain[i]),
                "style_controlled": _r(fit.controlled[i]),
                "shift": _r(fit.controlled[i] - fit.plain[i]),
            }
            for i, model_id, name in _best_first(fit.models, fit.controlled, names)
        ],
        "coefficients": {f: {"points": _r(fit.coefficients[f]), "se": _r(fit.se[f])} for f in (*FEATURES, "left")},
        "battles": fit.battles,
        "hidden": list(hidden),
    }


def davidson_view(rows: BattleRows, names: Mapping[str, str], min_votes: int = 0) -> DavidsonView:
    """Davidson ratings (± 1.96 se), the tie and both-bad strengths, and each model's both-bad share."""
    from arena.ratings.davidson import davidson
    from arena.ratings.guards import gate

    rows, hidden = gate(rows, min_votes)
    if rows.n_models < 2:
        return {"rows": [], "nu_tie": None, "nu_bothbad": None, "hidden": list(hidden)}
    fit = davidson(rows)
    return {
        "rows": [
            {
                "model_id": model_id,
                "model": name,
                "rating": _r(fit.ratings[i]),
                "ci": [_r(fit.ratings[i] - 1.96 * fit.se[i]), _r(fit.ratings[i] + 1.96 * fit.se[i])],
                "bothbad_share": _r(fit.bothbad_share[i], 4),
                "bothbad_ci": [_r(fit.bothbad_ci[i, 0], 4), _r(fit.bothbad_ci[i, 1], 4)],
            }
            for i, model_id, name in _best_first(fit.models, fit.ratings, names)
        ],
        "nu_tie": _r(fit.nu_tie, 4),
        "nu_bothbad": _r(fit.nu_bad, 4),
        "hidden": list(hidden),
    }
