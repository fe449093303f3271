"""Tallies: what the board reads instead of every vote, written in the same transaction as the votes.

Every vote enters the database through :meth:`Tallies.store` (live votes) or :meth:`Tallies.store_batch`
(imports). Inside the vote's transaction it

1. bumps `board_state.version`: on Postgres its row lock orders the tally writers (vote ids are drawn after it,
   so id order is commit order), on SQLite the write lock already does;
2. updates the voter's records in `raters` (by session and by IP hash: votes, gold-pair credit, weight class)
   and, when a record changes class, moves that voter's past votes to their new class in `vote_counts`;
3. inserts the vote, adds it to `vote_counts` (anonymous, non-gold votes) and moves the online Elo of every
   scope it belongs to (`elo_ratings`).

So the tallies are right whatever happens: a transaction killed half way leaves nothing, concurrent votes are
serialised on the version row. Counts are computed by SQL from the stored rows (one query shape for a vote, a
re-class and a rebuild), so the three can never disagree on a key; an imported batch is counted from its own
columns (arena.services.batch_facts, whose agreement with the SQL the tests check), as reading it back was most
of an import's time. :meth:`Tallies.rebuild` recounts
everything from the votes (a database that had votes before migration 0002 starts stale and is rebuilt once).

Elo is online: each vote moves it once, with the weight its voter's class had when it was cast; a later gold
failure down-weights the voter's past votes in the Bradley–Terry board but does not unmove Elo (a rebuild
replays every vote with today's classes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, aliased

from arena.ratings.raters import CLASS_TRUSTED, GoldPolicy, class_weights, weight_class
from arena.services.batch_facts import NewVotes
from arena.services.elo_store import EloState, elo_upsert, has_all, load_elo, save_elo, start_all
from arena.services.fact_counts import FactCounts
from arena.services.rater_records import (
    Voters,
    chunks,
    gold_answer,
    gold_credit_of,
    recount_records,
    write_records,
)
from db.bulk import bulk_upsert
from db.models import (
    COUNT_KEY,
    OUTCOME_COUNTS,
    PINNED,
    Battle,
    BattleMode,
    BattleStatus,
    BoardExclusion,
    BoardState,
    EloRating,
    ExclusionKind,
    Prompt,
    Rater,
    Video,
    Vote,
    VoteCount,
)

_LEFT, _RIGHT = aliased(Video), aliased(Video)
_BY_SESSION, _BY_IP = aliased(Rater), aliased(Rater)


def _on_board() -> ColumnElement[bool]:
    """Votes the board counts: anonymous, voted, not a gold check, not on a prompt the voter chose (a client that
    pins one prompt maps its few clips by their reveals; see arena.services.pool), not from a session or IP hash
    the admin excluded (their votes stay stored; see :meth:`Tallies.withdraw` and :meth:`Tallies.restore`)."""
    excluded = exists().where(
        or_(
            and_(BoardExclusion.kind == ExclusionKind.session, BoardExclusion.value == Vote.session_id),
            and_(BoardExclusion.kind == ExclusionKind.ip_hash, BoardExclusion.value == Vote.ip_hash),
        )
    )
    on = and_(Battle.mode == BattleMode.anonymous, Battle.status == BattleStatus.voted, Battle.is_gold.is_(False))
    return and_(on, Battle.source != PINNED, ~excluded)


def class_of_vote() -> ColumnElement[int]:
    """The worst class of the vote's session and IP hash (needs the two rater joins of `vote_facts`)."""
    by_session = func.coalesce(_BY_SESSION.weight_class, CLASS_TRUSTED)
    by_ip = func.coalesce(_BY_IP.weight_class, CLASS_TRUSTED)
    return case((by_ip > by_session, by_ip), else_=by_session)


def vote_facts(*columns: Any, board_only: bool = True) -> Select[Any]:
    """SELECT `columns` FROM votes with their battle, prompt, clips and raters joined (board votes only, unless
    not `board_only`)."""
    query = (
        select(*columns)
        .select_from(Vote)
        .join(Battle, Battle.id == Vote.battle_id)
        .join(Prompt, Prompt.id == Battle.prompt_id)
        .outerjoin(_LEFT, _LEFT.id == Battle.left_video_id)
        .outerjoin(_RIGHT, _RIGHT.id == Battle.right_video_id)
        .outerjoin(_BY_SESSION, and_(_BY_SESSION.kind == "session", _BY_SESSION.key == Vote.session_id))
        .outerjoin(_BY_IP, and_(_BY_IP.kind == "ip", _BY_IP.key == Vote.ip_hash))
    )
    return query.where(_on_board()) if board_only else query


def count_keys() -> list[Any]:
    """The `COUNT_KEY` columns of one vote, in order (unknown clip shapes are 0)."""
    zero: Any = literal_column("0")
    shape = [
        func.coalesce(getattr(video, column), zero).label(f"{side}_{name}")
        for side, video in (("left", _LEFT), ("right", _RIGHT))
        for name, column in (("frames", "num_frames"), ("width", "width"), ("height", "height"), ("fps", "fps"))
    ]
    keys: list[Any] = [
        Vote.simulated.label("simulated"),
        Battle.prompt_id.label("prompt_id"),
        Battle.left_model_id.label("left_model_id"),
        Battle.right_model_id.label("right_model_id"),
        Vote.weight.label("weight"),
        class_of_vote().label("weight_class"),
        *shape,
    ]
    assert tuple(k.name for k in keys) == COUNT_KEY
    return keys


def _choice() -> Any:
    return type_coerce(Vote.choice, String).label("choice")  # the plain value: no enum object per row


def outcome_sums(column: Any) -> list[Any]:
    """SUM(1 per vote of each choice) over grouped `column`s, in `OUTCOME_COUNTS` order, labelled like the table."""
    return [func.sum(case((column == choice, 1), else_=0)).label(name) for choice, name in OUTCOME_COUNTS.items()]


def _insert(session: Session) -> Any:
    """The dialect's INSERT with ON CONFLICT (SQLite and Postgres)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert
    raise RuntimeError(f"tallies need SQLite or Postgres, not {name}")


def facts_of(which: ColumnElement[bool]) -> Select[Any]:
    """What `_count_and_move` reads of the matching votes: the count key columns, then choice, language and
    category, in id order."""
    return vote_facts(*count_keys(), _choice(), Prompt.language, Prompt.category).where(which).order_by(Vote.id)


# The statements of every vote, built once: SQLAlchemy then reuses their cache keys and compiled forms (building
# and keying them again was most of a vote's CPU).
_SOME_VOTES = facts_of(Vote.id.in_(bindparam("vote_ids", expanding=True)))
_BUMP = (
    update(BoardState).where(BoardState.id == 1).values(version=BoardState.version + 1).returning(BoardState.version)
)
_INSERT_VOTES = insert(Vote).returning(Vote.id, sort_by_parameter_order=True)  # executemany: ids in row order
_VOTE_COLUMNS = ("battle_id", "choice", "aspects", "session_id", "ip_hash", "seconds_to_vote", "weight", "simulated")


class Tallies:
    """Writes and rebuilds the tallies (see the module docstring). `gold_policy` sets the weight each class
    carries into Elo at the time of the vote; the board applies the policy when it reads the counts."""

    def __init__(self, gold_policy: GoldPolicy = "downweight") -> None:
        self.factors = class_weights(gold_policy)
        self._upserts: dict[str, tuple[Any, Any]] = {}  # dialect → (raters upsert, elo upsert), built once each

    def _upserts_of(self, session: Session) -> tuple[Any, Any]:
        name = session.get_bind().dialect.name
        if name not in self._upserts:
            insert_of = _insert(session)
            statement = insert_of(Rater)
            added = statement.excluded
            raters = statement.on_conflict_do_update(
                index_elements=["kind", "key"],
                set_={
                    "votes": Rater.votes + added.votes,
                    "gold_votes": Rater.gold_votes + added.gold_votes,
                    "gold_credit": Rater.gold_credit + added.gold_credit,
                },
            ).returning(Rater.kind, Rater.key, Rater.gold_votes, Rater.gold_credit, Rater.weight_class)
            self._upserts[name] = (raters, elo_upsert(insert_of))
        return self._upserts[name]

    # ---- writing -------------------------------------------------------------------------------------------
    def store(self, session: Session, battle: Battle, vote: Vote) -> None:
        """Insert `vote` (of `battle`, already marked voted in this transaction) with every tally it moves."""
        self.store_many(session, [(battle, vote)])

    def store_many(self, session: Session, votes: Sequence[tuple[Battle, Vote]]) -> None:
        """Insert live `votes` (each of its battle, already marked voted in this transaction), in order, with every
        tally they move: one version bump, one records upsert, one INSERT, one read of their facts. Their voters'
        classes are those after the whole batch (as if a class that changed in it had changed before it)."""
        version = self.lock(session)
        voters = Voters(
            [vote.session_id for _, vote in votes],
            [vote.ip_hash for _, vote in votes],
            [gold_credit_of(vote.choice, gold_answer(battle.mode, battle.gold_better)) for battle, vote in votes],
        )
        self._record(session, voters, version)
        rows = [{name: getattr(vote, name) for name in _VOTE_COLUMNS} for _, vote in votes]  # Core: no unit of work
        ids = session.connection().execute(_INSERT_VOTES, rows).scalars().all()
        for (_, vote), vote_id in zip(votes, ids, strict=True):
            vote.id = vote_id
        self._count_and_move(session, _SOME_VOTES, version, {"vote_ids": list(ids)})

    def store_batch(self, session: Session, votes: NewVotes, insert: Callable[[], None]) -> None:
        """A batch of new votes on battles without clips (imports) in one transaction: the voters' records are
        updated, `insert()` writes the battles and votes (bulk), and the votes are counted and move the Elo from
        the batch's own columns (see arena.services.batch_facts) instead of being read back."""
        version = self.lock(session)
        classes = self._record(session, votes.voters, version, bulk=True)
        facts = votes.facts(session, classes)
        insert()
        self._tally(session, facts, version)

    def lock(self, session: Session, *, rebuild: bool = False) -> int:
        """Bump the board version (the tally writers' lock, held until the transaction ends); returns it."""
        bump = _BUMP.values(epoch=BoardState.epoch + 1, stale=False) if rebuild else _BUMP
        return int(session.connection().execute(bump).scalar_one())  # Core: no ORM bulk-update machinery

    def withdraw(self, session: Session, vote_ids: Sequence[int]) -> None:
        """Take votes off the counts before their battles leave the board (e.g. moderation voids them); their
        Elo moves stay (Elo is online). Call it in the transaction that changes the battles."""
        version = self.lock(session)
        for chunk in chunks(list(vote_ids)):
            self._add_counts(session, Vote.id.in_(chunk), -1, version)

    def restore(self, session: Session, vote_ids: Sequence[int]) -> None:
        """Count votes again once what kept them off the board is lifted (an admin exclusion removed): the
        reverse of :meth:`withdraw`, called after the change, in its transaction."""
        version = self.lock(session)
        for chunk in chunks(list(vote_ids)):
            self._add_counts(session, Vote.id.in_(chunk), +1, version)

    # ---- the steps -----------------------------------------------------------------------------------------
    def _record(
        self, session: Session, voters: Voters, version: int, *, bulk: bool = False
    ) -> dict[tuple[str, str], int]:
        """Add the votes to their voters' records; a record whose class changes takes its past votes along.
        Returns the class of every record the votes touched (`bulk`: only the records not trusted; records
        without a gold check in the votes, whose class cannot change, are then written through the driver)."""
        deltas = voters.deltas()
        if not deltas:
            return {}
        classes: dict[tuple[str, str], int] = {}
        if bulk:
            plain = [(kind, key, d.votes) for (kind, key), d in deltas.items() if not d.gold_votes]
            if plain:
                kinds, keys, votes = zip(*plain, strict=True)
                columns: dict[str, Sequence[Any]] = {"kind": kinds, "key": keys, "votes": votes}
                columns |= {"gold_votes": [0] * len(plain), "gold_credit": [0.0] * len(plain)}
                columns["weight_class"] = [CLASS_TRUSTED] * len(plain)
                keep = ("gold_votes", "gold_credit", "weight_class")  # a new record's; a stored one keeps its own
                bulk_upsert(session, Rater.__tablename__, ("kind", "key"), columns, add=("votes",), keep=keep)
            untrusted = select(Rater.kind, Rater.key, Rater.weight_class).where(Rater.weight_class != CLASS_TRUSTED)
            classes = {(kind, key): c for kind, key, c in session.execute(untrusted) if (kind, key) in deltas}
            deltas = {k: d for k, d in deltas.items() if d.gold_votes}
        rows = [
            {"kind": kind, "key": key, "votes": d.votes, "gold_votes": d.gold_votes, "gold_credit": d.gold_credit}
            | {"weight_class": CLASS_TRUSTED}
            for (kind, key), d in deltas.items()
        ]
        upsert = self._upserts_of(session)[0]
        flipped: dict[tuple[str, str], int] = {}  # the stored class is still the old one: compare it
        for kind, key, gold_votes, credit, old in session.connection().execute(upsert, rows) if rows else ():
            new = classes[(kind, key)] = weight_class(gold_votes, credit)
            if new != old:
                flipped[(kind, key)] = new
        if flipped:
            moved = _voters_of(list(flipped))
            self._add_counts(session, moved, -1, version)  # under the old classes...
            for (kind, key), new in flipped.items():
                session.execute(update(Rater).where(Rater.kind == kind, Rater.key == key).values(weight_class=new))
            self._add_counts(session, moved, +1, version)  # ...and back under the new ones
        return classes

    def _count_and_move(
        self,
        session: Session,
        query: Select[Any],
        version: int,
        params: dict[str, Any] | None = None,
        *,
        rebuild: bool = False,
    ) -> None:
        """Count the votes of `query` (from :func:`facts_of`) into vote_counts and move the stored Elo by them
        (in id order), from one read of their facts."""
        cursor = session.connection().execute(query, params or {}).cursor  # the driver's tuples: no row objects
        if not rebuild:
            self._tally(session, cursor.fetchall(), version)
            return
        # every vote, streamed, into emptied tables
        with_all = session.scalar(select(Vote.id).where(Vote.simulated.is_(True)).limit(1)) is not None
        counts = FactCounts()
        state = EloState()
        while chunk := cursor.fetchmany(50_000):
            counts.add(chunk)
            state.replay(chunk, self.factors.tolist(), with_all)
        self._save(session, counts, state, version)

    def _tally(self, session: Session, facts: Sequence[Sequence[Any]], version: int) -> None:
        """Count `facts` (rows shaped like :func:`facts_of`'s, in vote order) into vote_counts and move the stored
        Elo by them."""
        state, with_all = self._elo_of(session, facts)
        self._save(session, self._count(facts, state, with_all), state, version)

    @staticmethod
    def _elo_of(session: Session, facts: Sequence[Sequence[Any]]) -> tuple[EloState, bool]:
        """The stored Elo of the facts' models, and whether the "all" population is kept (started here by the
        first simulated vote)."""
        with_all = has_all(session)
        if not with_all and any(f[0] for f in facts):
            start_all(session)
            with_all = True
        return load_elo(session, {m for f in facts for m in (f[2], f[3])}), with_all

    def _count(self, facts: Sequence[Sequence[Any]], state: EloState, with_all: bool) -> FactCounts:
        """The facts' votes by count key and choice; moves `state` by them (no database work)."""
        state.replay(facts, self.factors.tolist(), with_all)
        return FactCounts().add(facts)

    def _save(self, session: Session, counts: FactCounts, state: EloState, version: int) -> None:
        """Add the counts to vote_counts (stamped `version`) and write the Elo `state` back."""
        if columns := counts.columns(version):
            bulk_upsert(session, VoteCount.__tablename__, COUNT_KEY, columns, add=tuple(OUTCOME_COUNTS.values()))
        save_elo(session, state, self._upserts_of(session)[1])

    @staticmethod
    def _add_counts(session: Session, which: ColumnElement[bool], sign: int, version: int) -> None:
        """vote_counts[key] += sign × (votes matching `which`, by key and choice), in one INSERT … SELECT …
        ON CONFLICT."""
        facts = vote_facts(*count_keys(), _choice()).where(which).subquery()
        keys = [facts.c[k] for k in COUNT_KEY]
        sums = [(total * sign).label(total.name) for total in outcome_sums(facts.c.choice)]
        stamp: Any = literal(int(version))  # bound: one compiled statement for every version
        grouped = select(*keys, *sums, stamp).where(true()).group_by(*keys)
        names = list(OUTCOME_COUNTS.values())
        insert = _insert(session)(VoteCount).from_select([*COUNT_KEY, *names, "version"], grouped)
        added = {n: getattr(VoteCount, n) + getattr(insert.excluded, n) for n in names}
        session.execute(
            insert.on_conflict_do_update(
                index_elements=list(COUNT_KEY), set_={**added, "version": insert.excluded.version}
            )
        )

    # ---- rebuilding and checking ---------------------------------------------------------------------------
    def rebuild(self, session: Session) -> None:
        """Recount every tally from the votes (readers then re-read everything: the epoch changes)."""
        version = self.lock(session, rebuild=True)
        for table in (VoteCount, Rater, EloRating):
            session.execute(delete(table))
        write_records(session, recount_records(session))
        self._count_and_move(session, facts_of(true()), version, rebuild=True)

    def ensure_fresh(self, session: Session) -> bool:
        """Rebuild if the tallies were marked stale (a database migrated with votes in it); True if rebuilt."""
        if not session.scalar(select(BoardState.stale).where(BoardState.id == 1)):
            return False
        self.rebuild(session)
        return True


def _voters_of(keys: Sequence[tuple[str, str]]) -> ColumnElement[bool]:
    sessions = [k for kind, k in keys if kind == "session"]
    ips = [k for kind, k in keys if kind == "ip"]
    return or_(Vote.session_id.in_(sessions), Vote.ip_hash.in_(ips))
