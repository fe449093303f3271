"""Metric scores on the board, and their agreement with human votes, on real scores of real videos."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from arena.services.container import Arena
from arena.services.scoring import ScoringService
from db.models import Battle, MetricScore, Prompt, Video
from db.session import transaction

ENC = "shapes-clip"  # the configured (default) encoder


@pytest.mark.slow
def test_scores_fill_the_board_and_agreement_follows_the_votes(arena: Arena) -> None:
    assert arena.metric_board.summary() == []
    scoring = ScoringService.configured(arena.factory, arena.settings)
    scored = scoring.score_all()[0]
    assert scored == arena.pool_videos.count()
    assert scoring.score_all()[0] == 0  # resumable: nothing left the second time
    assert arena.metric_board.calibrated() is True  # the default encoder: the shapes-world CLIP (trained here)
    summary = arena.metric_board.summary()
    metrics = {r["metric"] for r in summary}
    assert {"clipsim", "clip_temp", "temporal_flicker", "motion_amount", "motion_direction"} <= metrics
    for row in summary:
        assert row["ci"][0] <= row["mean"] <= row["ci"][1] and row["videos"] >= 1
    values = arena.metric_board.values()
    # Votes that always prefer the clip with the higher flicker score: that metric then agrees every time.
    for _ in range(12):
        view = arena.battles.start("s1")
        with transaction(arena.factory) as session:
            battle = session.get_one(Battle, view.id)
            left, right = values[battle.left_video_id], values[battle.right_video_id]
        choice = "left" if left["temporal_flicker"] > right["temporal_flicker"] else "right"
        arena.votes.vote(view.id, "s1", choice)
    agreement = {r["metric"]: r for r in arena.metric_board.agreement()}
    flicker = agreement["temporal_flicker"]
    assert flicker["pairs"] > 0 and flicker["pair_accuracy"] == 1.0
    assert agreement["motion_amount"]["pair_accuracy"] is None  # no direction: not a preference
    assert flicker["models"] == 3 and flicker["spearman_rho"] is not None
    by_category = arena.metric_board.summary(category="count")
    assert by_category and all(r["videos"] <= 3 for r in by_category)


class FakeScorer:
    """Stands in for metrics.scorer.Scorer: one pixel metric whose value is the video id (no model loads)."""

    calibrated = False
    encoder_id = "fake"
    scope_note = None

    def result_keys(self) -> list[tuple[str, str, str | None]]:
        return [("temporal_flicker", "9", None)]

    def missing_weights(self) -> dict[str, str]:
        return {}

    def score_file(self, path, prompt=None, language=None):  # type: ignore[no-untyped-def]
        from types import SimpleNamespace

        if not path.is_file():
            raise OSError("no such file")
        result = SimpleNamespace(
            metric="temporal_flicker", version="9", encoder=None, value=0.5, details={}, status="ok", reason=None,
            calibrated=True,
        )  # fmt: skip
        return SimpleNamespace(results=[result])


def test_score_all_scores_what_is_missing_and_reports_failures(arena: Arena) -> None:
    service = ScoringService(arena.factory, arena.settings.media_dir, FakeScorer())  # type: ignore[arg-type]
    with transaction(arena.factory) as session:
        broken = session.scalars(select(Video).order_by(Video.id)).first()
        assert broken is not None
        broken.file_path = "videos/missing.mp4"
    seen: list[tuple[int, int]] = []
    scored, failures = service.score_all(progress=lambda done, total: seen.append((done, total)))
    total = arena.pool_videos.count()
    assert scored == total - 1 and len(failures) == 1 and failures[0].startswith(f"video {broken.id}: ")
    assert seen == [(n, total) for n in range(1, total + 1)]
    assert service.score_all() == (0, failures)  # only the broken one is left, and fails again
    assert service.score_all(run_id="no-such-run") == (0, [])


def test_cli_score_upgrades_a_new_database(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from arena.cli import build_app
    from arena.cli import metrics as metrics_cli

    monkeypatch.setenv("ARENA_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    monkeypatch.setattr(metrics_cli, "_make_scorer", lambda *args: FakeScorer())
    res = CliRunner().invoke(build_app(), ["score", "--all"])
    assert res.exit_code == 0, res.output
    assert "scored 0 of 0 videos" in res.output


def test_the_metric_board_counts_pool_videos_and_the_latest_metric_version(arena: Arena) -> None:
    """Playground videos (typed prompts, the "user" suite) and rows of an older metric version stay off the board."""
    from arena.services.suites import USER_SUITE

    with transaction(arena.factory) as session:
        pool = list(session.scalars(select(Video).where(Video.model_id == "alpha-7b").order_by(Video.id)))
        typed = Prompt(suite=USER_SUITE, key="typed", language="en", category="motion", text="anything I like")
        session.add(typed)
        session.flush()
        template = pool[0]
        junk = Video(
            model_id="alpha-7b", prompt_id=typed.id, seed=0, settings_key="x", content_hash="x",
            file_path=template.file_path, num_frames=template.num_frames, width=template.width,
            height=template.height, fps=template.fps,
        )  # fmt: skip
        session.add(junk)
        session.flush()
        for video in pool:  # an old version first, then the current one
            session.add(MetricScore(video_id=video.id, metric="clipsim", metric_version="1", encoder=ENC, value=9.0))
        for video in pool:
            session.add(MetricScore(video_id=video.id, metric="clipsim", metric_version="2", encoder=ENC, value=0.25))
        session.add(MetricScore(video_id=junk.id, metric="clipsim", metric_version="2", encoder=ENC, value=1000.0))
        session.add(MetricScore(video_id=pool[0].id, metric="clipsim", metric_version="2", encoder="other", value=5.0))
        junk_id = junk.id
    videos = arena.metric_board.read()
    assert junk_id not in videos and set(videos) == {v.id for v in pool}
    (row,) = arena.metric_board.summary(videos=videos)
    assert (row["model_id"], row["metric"], row["mean"], row["videos"]) == ("alpha-7b", "clipsim", 0.25, len(pool))
    assert arena.metric_board.summary() == [row]
    assert arena.metric_board.summary(category="motion", videos=videos)[0]["videos"] < len(pool)


def test_board_pools_vbench_consistency_over_frame_pairs_and_reports_json(arena: Arena) -> None:
    """Stored rows as the scorer writes them: pair counts in details, DINO rows under their own model (the newest
    model wins), unavailable rows with their reason; the board, the VBench view and the report read them."""
    import json

    with transaction(arena.factory) as session:
        pool = list(session.scalars(select(Video).where(Video.model_id == "alpha-7b").order_by(Video.id)))
        for video, (value, pairs) in zip(pool[:3], [(1.0, 2), (0.5, 8), (0.8, 0)], strict=True):
            for encoder, v in (("dinov2-base", 0.1), ("dino-vitb16", value)):  # older model first
                session.add(
                    MetricScore(
                        video_id=video.id, metric="subject_consistency", metric_version="2", encoder=encoder,
                        value=v, details={"pairs": pairs, "status": "ok"},
                    )
                )  # fmt: skip
            session.add(
                MetricScore(
                    video_id=video.id, metric="aesthetic", metric_version="2", encoder="ViT-L-14-openai", value=None,
                    details={"status": "unavailable", "reason": "LAION aesthetic head not found"},
                )
            )  # fmt: skip
            session.add(
                MetricScore(video_id=video.id, metric="temporal_flicker", metric_version="1", encoder="", value=0.9)
            )
    (row,) = [r for r in arena.metric_board.summary() if r["metric"] == "subject_consistency"]
    assert row["mean"] == 0.6 and row["pairs"] == 10 and row["pooling"] == "pairs"  # (2*1 + 8*0.5) / 10
    view = arena.metric_board.vbench()
    (alpha,) = view.models
    dims = {d.dimension: d for d in alpha.dimensions}
    assert dims["subject_consistency"].model == "dino-vitb16" and dims["subject_consistency"].same_models_as_vbench
    assert dims["aesthetic_quality"].status == "unavailable" and "LAION" in dims["aesthetic_quality"].note
    assert dims["temporal_flickering"].status == "unavailable"  # no static filter ran: VBench would not score it
    report = arena.metric_board.report(video_ids=[pool[0].id, pool[1].id])
    assert report.videos == 2 and report.encoder == ENC
    payload = json.loads(json.dumps(report.to_dict()))
    assert {r["metric"] for r in payload["models"]} == {"subject_consistency", "temporal_flicker"}
    assert {r["category"] for r in payload["categories"]} <= {"motion", "colour", "count"}
    assert payload["vbench"]["models"][0]["model"] == "Alpha Seven"
    assert arena.metric_board.report(run_id="no-such-run").videos == 0
