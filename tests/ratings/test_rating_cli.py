"""`arena ratings`: JSON shape, table, errors, and no heavy imports on its path."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from arena.cli import build_app


@pytest.fixture
def battles(tmp_path):
    path = tmp_path / "battles.jsonl"
    recs = [{"model_a": "a", "model_b": "b", "winner": w} for w in ["model_a"] * 30 + ["model_b"] * 10 + ["tie"] * 5]
    recs += [{"model_a": "c", "model_b": "a", "winner": "tie (bothbad)"}] * 8
    path.write_text("\n".join(json.dumps(r) for r in recs))
    return path


def test_json_output(battles) -> None:
    res = CliRunner().invoke(build_app(), ["ratings", "--battles", str(battles), "--bootstrap", "20", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"ratings", "ci", "elo", "votes", "component"}
    assert out["votes"] == {"a": 53, "b": 45, "c": 8}
    assert out["ratings"]["a"] > out["ratings"]["b"]
    assert all(lo <= out["ratings"][m] <= hi for m, (lo, hi) in out["ci"].items() if m != "c")
    assert out["ci"]["c"] == [None, None]  # only ties: insufficient data, not a zero-width interval
    again = CliRunner().invoke(build_app(), ["ratings", "--battles", str(battles), "--bootstrap", "20", "--json"])
    assert again.output == res.output  # seeded


def test_table_anchor_and_errors(battles, tmp_path) -> None:
    res = CliRunner().invoke(build_app(), ["ratings", "--battles", str(battles), "--anchor", "b", "--bootstrap", "20"])
    assert res.exit_code == 0 and "1000.0" in res.output and "rank" in res.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"model_a": "a", "model_b": "b", "winner": "maybe"}\n')
    res = CliRunner().invoke(build_app(), ["ratings", "--battles", str(bad)])
    assert res.exit_code == 2 and "unknown winner" in res.output


def test_compare_two_models(battles) -> None:
    args = ["ratings", "--battles", str(battles), "--bootstrap", "0", "--compare", "a", "b"]
    res = CliRunner().invoke(build_app(), [*args, "--json"])
    assert res.exit_code == 0, res.output
    (entry,) = json.loads(res.output)["versus"]
    assert (entry["a"], entry["b"], entry["wins"], entry["losses"], entry["ties"]) == ("a", "b", 30, 10, 5)
    assert entry["interval"][0] <= entry["estimate"] <= entry["interval"][1]
    assert entry["decision"] in ("better", "undecided")
    assert "a vs b [all]" in CliRunner().invoke(build_app(), args).output
    bad = CliRunner().invoke(build_app(), ["ratings", "--battles", str(battles), "--compare", "a", "zz"])
    assert bad.exit_code == 2 and "zz" in bad.output


def test_empty_database_gives_an_empty_board(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ARENA_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    res = CliRunner().invoke(build_app(), ["ratings", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"ratings": {}, "ci": {}, "elo": {}, "votes": {}, "component": {}}


def test_no_heavy_imports_on_the_ratings_path(battles) -> None:
    code = (
        "import sys; from arena.cli import build_app\n"
        f"try: build_app()(['ratings', '--battles', {str(battles)!r}, '--json'])\n"
        "except SystemExit: pass\n"
        "names = ('torch', 'gradio', 'diffusers', 'open_clip', 'torchvision', 'pandas')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_in_house_verdicts_with_decided_at_in_file_order(tmp_path) -> None:
    """`--in-house`: one entry per rival with the decision, its level, interval and votes needed; decided_at is
    the first vote count (file order) whose verdict is the final one."""
    from arena.ratings.battles import BattleRows
    from arena.ratings.comparisons import DecisionRules, compare_family

    recs = []
    for k in range(120):  # a beats b 5 times in 6; a and c are level
        recs.append({"model_a": "a", "model_b": "b", "winner": "model_b" if k % 6 == 0 else "model_a"})
        recs.append({"model_a": "c", "model_b": "a", "winner": ("model_a", "model_b", "tie")[k % 3]})
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs))
    res = CliRunner().invoke(
        build_app(), ["ratings", "--battles", str(path), "--bootstrap", "0", "--in-house", "a", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    versus = {e["rival"]: e for e in out["versus"]}
    assert set(versus) == {"b", "c"} and out["verdicts"]["method"] == "holm" and out["verdicts"]["family_size"] == 2
    better, level = versus["b"], versus["c"]
    assert better["decision"] == "better" and better["votes_needed"] == 0 and better["interval"][0] > 0
    assert 0.95 <= better["level"] < 1 and level["decision"] in ("undecided", "equivalent")
    assert level["decision"] == "equivalent" or level["votes_needed"] > 0  # never "0 needed" while undecided
    n = better["decided_at"]
    rows = BattleRows.from_jsonl(path)

    def verdict_after(m: int) -> str:
        fam = compare_family(
            rows.subset(np.arange(len(rows)) < m), [("a", "b"), ("a", "c")], rules=DecisionRules(min_votes=5)
        )
        return fam.comparisons[0].decision.verdict.value

    assert verdict_after(n) == "better" and verdict_after(n - 1) != "better"
    grouped = CliRunner().invoke(
        build_app(), ["ratings", "--battles", str(path), "--in-house", "a", "--by", "language"]
    )
    assert grouped.exit_code == 2 and "language" in grouped.output  # the file carries no language field
