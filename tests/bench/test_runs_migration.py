"""Migration 0006 (runs, run_failures) upgrades a database that already holds rows without touching them, and
downgrades cleanly."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from db.session import downgrade, make_engine, upgrade


def test_runs_tables_are_added_to_a_database_with_rows_and_removed_on_downgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into models (id, display_name, organisation, licence, kind, enabled, in_house, spec, "
                "created_at, updated_at) values ('m', 'M', 'o', 'l', 'demo', 1, 0, '{}', '2026-01-01', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "insert into prompts (suite, key, language, category, text, created_at) "
                "values ('s', 'k', 'en', 'motion', 'a red ball', '2026-01-01')"
            )
        )
    upgrade(url)
    assert {"runs", "run_failures"} <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert connection.execute(text("select id from models")).all() == [("m",)]
        assert connection.execute(text("select text from prompts")).all() == [("a red ball",)]
    downgrade(url, "0001")
    assert not {"runs", "run_failures"} & set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from prompts")).scalar() == 1
    engine.dispose()
