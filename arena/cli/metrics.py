"""`arena metrics VIDEO.mp4 --prompt ...` (every metric for one file) and `arena score` (the database)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from metrics.scorer import Scorer, VideoReport

EncoderOpt = Annotated[str | None, typer.Option("--encoder", help="Metrics encoder id (default: settings)")]
CheckpointOpt = Annotated[Path | None, typer.Option("--checkpoint", help="Encoder weights file (default: settings)")]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto (CUDA when present), cpu, cuda, cuda:1 ...")]
BatchOpt = Annotated[int, typer.Option("--batch-size", min=1, help="Frames per image-encoder pass")]
CacheDirOpt = Annotated[Path | None, typer.Option("--cache-dir", help="Keep image features as .npy files here")]
HeadOpt = Annotated[Path | None, typer.Option("--aesthetic-head", help="LAION aesthetic head (.pth) file")]
DinoOpt = Annotated[
    str | None, typer.Option("--dino", help="Subject-consistency DINO: auto, dino-vitb16, dinov2-base, or a folder")
]
RaftOpt = Annotated[Path | None, typer.Option("--raft", help="torchvision RAFT state-dict file (dynamic degree)")]


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.4f}"


def _make_scorer(
    encoder: str | None,
    checkpoint: Path | None,
    device: str,
    batch_size: int,
    cache_dir: Path | None,
    aesthetic_head: Path | None,
    dino: str | None = None,
    raft: Path | None = None,
) -> Scorer:
    from arena.settings import get_settings
    from metrics.scorer import Scorer

    settings = get_settings()
    options = {"aesthetic": {"head": aesthetic_head}} if aesthetic_head else None
    try:
        return Scorer(
            encoder=encoder or settings.metrics_encoder,
            checkpoint=checkpoint or settings.metrics_checkpoint,
            device=device,
            batch_size=batch_size,
            cache_dir=cache_dir,
            metric_options=options,
            dino=dino or settings.metrics_dino,
            raft=raft or settings.metrics_raft,
        )
    except KeyError as exc:
        typer.secho(str(exc.args[0]), fg="red", err=True)
        raise typer.Exit(2) from exc


def _print_report(report: VideoReport, as_json: bool) -> None:
    from metrics.scorer import SCOPE_NOTE, UNCALIBRATED_WARNING

    warning = None if report.calibrated else UNCALIBRATED_WARNING.format(encoder=report.encoder)
    if report.scope:
        warning = "\n".join(filter(None, [warning, SCOPE_NOTE.format(encoder=report.encoder, scope=report.scope)]))
    if as_json:
        if warning:
            typer.secho(warning, fg="yellow", err=True)
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    if warning:
        typer.secho(warning, fg="yellow")
    guessed = " (guessed)" if report.language_guessed else ""
    typer.echo(
        f"encoder {report.encoder}  language {report.language}{guessed}  video {(report.video_hash or '-')[:12]}"
    )
    typer.echo(f"{'metric':<24} {'value':>10}  {'range':<14} {'better':<7} {'calibrated':<10} notes")
    for r in report.results:
        better = {True: "higher", False: "lower", None: "-"}[r.higher_is_better]
        span = f"[{_fmt(r.range[0])}, {_fmt(r.range[1])}]"
        note = r.reason if r.status != "ok" else _details(r.details)
        status = "" if r.status == "ok" else f"{r.status.replace('_', ' ')}: "
        typer.echo(
            f"{r.metric:<24} {_fmt(r.value):>10}  {span:<14} {better:<7} {'yes' if r.calibrated else 'NO':<10} "
            f"{status}{note}"
        )


def _details(details: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in details.items() if not isinstance(v, list | dict))


def register(app: typer.Typer) -> None:
    @app.command("metrics")
    def metrics_cmd(
        video: Annotated[Path, typer.Argument(help="An MP4 (or any video PyAV decodes)")],
        prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="The prompt it was made from")] = None,
        language: Annotated[
            str | None, typer.Option("--language", help="Prompt language (ISO 639-1); guessed from the script")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
        encoder: EncoderOpt = None,
        checkpoint: CheckpointOpt = None,
        device: DeviceOpt = "auto",
        batch_size: BatchOpt = 32,
        cache_dir: CacheDirOpt = None,
        aesthetic_head: HeadOpt = None,
        dino: DinoOpt = None,
        raft: RaftOpt = None,
    ) -> None:
        """Every metric for one video file."""
        if not video.is_file():
            typer.secho(f"no such file: {video}", fg="red", err=True)
            raise typer.Exit(2)
        scorer = _make_scorer(encoder, checkpoint, device, batch_size, cache_dir, aesthetic_head, dino, raft)
        from metrics.encoders import EncoderNotFound

        try:
            report = scorer.score_file(video, prompt=prompt, language=language)
        except EncoderNotFound as exc:
            typer.secho(str(exc), fg="red", err=True)
            raise typer.Exit(2) from exc
        except ValueError as exc:  # not a decodable video
            typer.secho(f"{video}: {exc}", fg="red", err=True)
            raise typer.Exit(2) from exc
        _print_report(report, as_json)

    @app.command("score")
    def score_cmd(
        all_videos: Annotated[bool, typer.Option("--all", help="Every unscored video in the database")] = False,
        run_id: Annotated[str | None, typer.Option("--run", help="Only the videos of this run")] = None,
        encoder: EncoderOpt = None,
        checkpoint: CheckpointOpt = None,
        device: DeviceOpt = "auto",
        batch_size: BatchOpt = 32,
        cache_dir: CacheDirOpt = None,
        aesthetic_head: HeadOpt = None,
        dino: DinoOpt = None,
        raft: RaftOpt = None,
    ) -> None:
        """Score every video that lacks a score (resumable: scored videos are skipped) and store the results."""
        if all_videos == (run_id is not None):
            typer.secho("give exactly one of --all or --run RUN_ID", fg="red", err=True)
            raise typer.Exit(2)
        scorer = _make_scorer(encoder, checkpoint, device, batch_size, cache_dir, aesthetic_head, dino, raft)
        from tqdm import tqdm

        from arena.services.scoring import ScoringService
        from arena.settings import get_settings
        from db.session import make_engine, make_session_factory, upgrade
        from metrics.encoders import EncoderNotFound
        from metrics.scorer import UNCALIBRATED_WARNING

        settings = get_settings()
        upgrade(settings.database_url)  # as the app does: a new or older database gets the current schema
        engine = make_engine(settings.database_url)
        service = ScoringService(make_session_factory(engine), settings.media_dir, scorer)
        if not scorer.calibrated:
            typer.secho(UNCALIBRATED_WARNING.format(encoder=scorer.encoder_id), fg="yellow")
        if scorer.scope_note:
            typer.secho(scorer.scope_note, fg="yellow")
        bar: tqdm[Any] | None = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, desc="scoring", unit="video")
            bar.update(1)

        try:
            scored, failures = service.score_all(run_id=run_id, progress=progress)
        except EncoderNotFound as exc:
            typer.secho(str(exc), fg="red", err=True)
            raise typer.Exit(2) from exc
        finally:
            if bar is not None:
                bar.close()
            engine.dispose()
        typer.echo(f"scored {scored} of {scored + len(failures)} videos")
        for line in failures:
            typer.secho(line, fg="red", err=True)
        if failures:
            raise typer.Exit(1)
