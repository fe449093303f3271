"""`arena metrics` on a real MP4, and the scoring service against a real SQLite file."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from adapters.video_io import encode_mp4
from tests.metrics.videos import moving_square


@pytest.fixture()
def cli(monkeypatch, tmp_path):
    from arena.cli.metrics import register

    monkeypatch.setenv("ARENA_METRICS_ENCODER", "tiny-random")
    monkeypatch.setenv("ARENA_DATABASE_URL", f"sqlite:///{tmp_path / 'arena.db'}")
    monkeypatch.setenv("ARENA_MEDIA_DIR", str(tmp_path / "media"))
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture()
def video_file(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(encode_mp4(moving_square(frames=8), 8))
    return path


def test_arena_metrics_prints_every_metric_with_the_uncalibrated_warning(cli, video_file):
    result = CliRunner().invoke(cli, ["metrics", str(video_file), "--prompt", "a white square", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "WARNING: encoder 'tiny-random'" in result.output and "uncalibrated" in result.output
    for name in ("clipsim", "clip_temp", "subject_consistency", "temporal_flicker", "motion_amount", "facts"):
        assert name in result.output
    assert "unavailable: LAION aesthetic head not found" in result.output


def test_arena_metrics_json_marks_chinese_not_supported(cli, video_file):
    result = CliRunner().invoke(cli, ["metrics", str(video_file), "-p", "一个白色方块", "--json", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["calibrated"] is False and payload["language"] == "zh"
    by = {m["metric"]: m for m in payload["metrics"]}
    assert by["clipsim"]["status"] == "not_supported" and by["clipsim"]["value"] is None
    assert by["facts"]["value"] == pytest.approx(1.0) and by["facts"]["details"]["frames"] == 8


def test_arena_metrics_errors_are_clear(cli, video_file, tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["metrics", str(tmp_path / "none.mp4")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    unknown = runner.invoke(cli, ["metrics", str(video_file), "--encoder", "vit-b-32"])
    assert unknown.exit_code == 2 and "Did you mean 'ViT-B-32'" in unknown.output
    nockpt = runner.invoke(cli, ["metrics", str(video_file), "--encoder", "ViT-B-32", "--checkpoint", "/no/w.bin"])
    assert nockpt.exit_code == 2 and "'ViT-B-32'" in nockpt.output and "/no/w.bin" in nockpt.output


@pytest.fixture()
def arena_db(tmp_path):
    """A real SQLite file with the lead's schema, one model, an English and a Chinese prompt, three videos."""
    from db.models import Model, Prompt, Video
    from db.session import make_engine, make_session_factory, transaction, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'arena.db'}")
    upgrade(f"sqlite:///{tmp_path / 'arena.db'}")
    sessions = make_session_factory(engine)
    media = tmp_path / "media"
    (media / "videos").mkdir(parents=True)
    with transaction(sessions) as s:
        s.add(Model(id="demo", display_name="Demo", kind="demo"))
        en = Prompt(suite="t", key="sq", language="en", text="a white square moves right")
        zh = Prompt(suite="t", key="sq", language="zh", text="一个白色方块向右移动")
        s.add_all([en, zh])
        s.flush()
        for i, (prompt, run) in enumerate([(en, "r1"), (zh, "r1"), (en, "r2")]):
            data = encode_mp4(moving_square(frames=6, step=2 + i), 8)
            (media / "videos" / f"v{i}.mp4").write_bytes(data)
            s.add(
                Video(
                    model_id="demo",
                    prompt_id=prompt.id,
                    seed=i,
                    settings_key="k",
                    content_hash=f"h{i}",
                    file_path=f"videos/v{i}.mp4",
                    num_frames=6,
                    width=64,
                    height=48,
                    fps=8.0,
                    run_id=run,
                )
            )
    return sessions, media


def test_scoring_service_stores_rows_and_resumes(arena_db, tiny_encoder):
    from sqlalchemy import delete, select

    from arena.services.scoring import ScoringService
    from db.models import MetricScore
    from metrics.scorer import Scorer

    sessions, media = arena_db
    service = ScoringService(sessions, media, Scorer("tiny-random", device="cpu", loaded=[tiny_encoder]))
    assert service.unscored_video_ids() == [1, 2, 3]
    assert service.unscored_video_ids(run_id="r2") == [3]
    for vid in service.unscored_video_ids(run_id="r1"):
        assert service.score_video(vid) is None
    assert service.unscored_video_ids() == [3]
    with sessions() as s:
        rows = {(r.video_id, r.metric): r for r in s.scalars(select(MetricScore))}
    assert len(rows) == 2 * 11
    assert rows[(1, "clipsim")].value is not None and rows[(1, "clipsim")].encoder == "tiny-random"
    assert rows[(1, "clipsim")].details["calibrated"] is False
    assert rows[(2, "clipsim")].value is None and rows[(2, "clipsim")].details["status"] == "not_supported"
    assert rows[(1, "temporal_flicker")].encoder == "" and 0 <= rows[(1, "temporal_flicker")].value <= 1
    assert rows[(1, "aesthetic")].value is None and rows[(1, "aesthetic")].details["status"] == "unavailable"
    for video in (1, 2):  # the square moves right, as both prompts (English, Chinese) ask
        assert rows[(video, "motion_direction")].value > 0.9 and rows[(video, "motion_direction")].encoder == ""
    # a run stopped half-way: the missing row makes the video unscored again, and rescoring fills only it
    with sessions() as s, s.begin():
        s.execute(delete(MetricScore).where(MetricScore.video_id == 1, MetricScore.metric == "clip_temp"))
    assert service.unscored_video_ids(run_id="r1") == [1]
    assert service.score_video(1) is None
    with sessions() as s:
        assert len(list(s.scalars(select(MetricScore).where(MetricScore.video_id == 1)))) == 11
    # a new encoder means nothing is scored for it yet
    other = ScoringService(sessions, media, Scorer("ViT-B-32", device="cpu"))
    assert other.unscored_video_ids() == [1, 2, 3]


def test_scoring_service_reports_a_broken_file_and_stores_nothing(arena_db, tiny_encoder):
    from sqlalchemy import select

    from arena.services.scoring import ScoringService
    from db.models import MetricScore
    from metrics.scorer import Scorer

    sessions, media = arena_db
    (media / "videos" / "v0.mp4").write_bytes(b"not a video")
    service = ScoringService(sessions, media, Scorer("tiny-random", device="cpu", loaded=[tiny_encoder]))
    error = service.score_video(1)
    assert error is not None and "videos/v0.mp4" in error
    with sessions() as s:
        assert list(s.scalars(select(MetricScore))) == []
    assert 1 in service.unscored_video_ids()


def test_arena_score_command_scores_everything_then_nothing(cli, arena_db):
    result = CliRunner().invoke(cli, ["score", "--all", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "scored 3 of 3 videos" in result.output and "WARNING" in result.output
    again = CliRunner().invoke(cli, ["score", "--run", "r1", "--device", "cpu"])
    assert again.exit_code == 0 and "scored 0 of 0 videos" in again.output
    both = CliRunner().invoke(cli, ["score", "--all", "--run", "r1"])
    assert both.exit_code == 2


def test_unavailable_rows_are_retried_once_the_weights_are_found(arena_db, tiny_encoder, tmp_path, monkeypatch):
    from sqlalchemy import select

    from arena.services.scoring import ScoringService
    from db.models import MetricScore
    from metrics.scorer import Scorer
    from tests.metrics.models import save_tiny_vit

    sessions, media = arena_db
    cache = tmp_path / "hf"
    only = ["subject_consistency", "temporal_flicker"]
    before = ScoringService(
        sessions, media, Scorer("tiny-random", loaded=[tiny_encoder], hf_cache_dir=cache, metrics=only)
    )
    assert before.score_all()[0] == 3
    assert before.unscored_video_ids() == []  # missing weights: stored as unavailable, not retried in vain
    with sessions() as s:
        row = s.scalars(select(MetricScore).where(MetricScore.metric == "subject_consistency")).first()
        assert row.value is None and row.details["status"] == "unavailable" and row.encoder == "dino-vitb16"
    from tests.metrics.test_vbench_models import fake_hf_cache

    fake_hf_cache(cache, "facebook/dino-vitb16", save_tiny_vit)  # the weights arrive
    after = ScoringService(
        sessions, media, Scorer("tiny-random", loaded=[tiny_encoder], hf_cache_dir=cache, metrics=only)
    )
    assert after.unscored_video_ids() == [1, 2, 3]
    assert after.score_all()[0] == 3 and after.unscored_video_ids() == []
    with sessions() as s:
        rows = list(s.scalars(select(MetricScore).where(MetricScore.metric == "subject_consistency")))
    assert len(rows) == 3 and all(r.value is not None and r.details["status"] == "ok" for r in rows)
