"""`arena bench run|list|report|compare`: benchmark runs of every model on one suite under one request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from arena.services.container import Arena


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"expected comma-separated integers, got {text!r}") from exc


def _size(text: str | None) -> tuple[int | None, int | None]:
    if not text:
        return None, None
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise typer.BadParameter(f"size must look like 256x256, got {text!r}")
    return int(width), int(height)


def _open_arena() -> Arena:
    from arena.services.container import Arena
    from arena.settings import get_settings

    return Arena.create(get_settings())


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, fg="red", err=True)
    return typer.Exit(code)


def register(app: typer.Typer) -> None:
    bench = typer.Typer(no_args_is_help=True, help="Benchmark runs: generate, score, report, compare.")
    app.add_typer(bench, name="bench")

    @bench.command("run")
    def run(
        suite: Annotated[str, typer.Option("--suite", help="a built-in suite (arena suites list) or a prompt file")],
        models: Annotated[str, typer.Option("--models", help="comma-separated model ids")],
        seeds: Annotated[str, typer.Option("--seeds", help="seed indices, e.g. 0,1 (the arena's k-th seeds)")] = "0",
        language: Annotated[str, typer.Option("--language", help="en | zh | both")] = "both",
        frames: Annotated[int | None, typer.Option("--frames", min=1, help="override the arena's frames")] = None,
        size: Annotated[str | None, typer.Option("--size", help="override the arena's size, WxH")] = None,
        fps: Annotated[float | None, typer.Option("--fps", min=1, help="override the arena's playback rate")] = None,
        category: Annotated[list[str] | None, typer.Option("--category", "-c", help="only these (repeatable)")] = None,
        limit: Annotated[int | None, typer.Option("--limit", min=1, help="only the first N prompts")] = None,
        suite_format: Annotated[str | None, typer.Option("--format", help="format of a prompt file")] = None,
        backend: Annotated[str, typer.Option("--backend", help="local | ray")] = "local",
        ray_address: Annotated[str | None, typer.Option("--ray-address", help="join this Ray cluster")] = None,
        timeout: Annotated[float, typer.Option("--timeout", min=0, help="seconds per video, 0: none")] = 1800.0,
        score: Annotated[bool, typer.Option("--score/--no-score", help="score the run's videos")] = True,
        as_json: bool = typer.Option(False, "--json", help="print the run id and counts as JSON"),
    ) -> None:
        """Generate every (model, prompt, seed) of the suite not yet stored, then score them. A run that was
        stopped is resumed by the same command. Every model gets the same request (its rules may snap it)."""
        from adapters.errors import ConfigError
        from arena.bench.runner import BenchRunner, Progress, RunOptions

        if language not in ("en", "zh", "both"):
            raise _fail(f"--language must be en, zh or both, not {language!r}")
        if backend not in ("local", "ray"):
            raise _fail(f"--backend must be local or ray, not {backend!r}")
        width, height = _size(size)
        options = RunOptions(
            suite=suite,
            models=[m.strip() for m in models.split(",") if m.strip()],
            seeds=_ints(seeds),
            language=language,  # type: ignore[arg-type]
            num_frames=frames,
            width=width,
            height=height,
            fps=fps,
            categories=category or (),
            limit=limit,
            suite_format=suite_format,
            backend=backend,
            ray_address=ray_address,
            timeout_s=timeout or None,
            score=score,
        )
        from tqdm import tqdm

        arena = _open_arena()
        try:
            with tqdm(desc="bench", unit="video", disable=as_json) as bar:

                def step(state: Progress) -> None:
                    bar.total = state.jobs
                    bar.set_postfix(generated=state.generated, skipped=state.skipped, failed=state.failed)
                    bar.update(state.done - bar.n)

                summary = BenchRunner(arena).run(options, progress=step)
        except ConfigError as exc:
            raise _fail(str(exc)) from exc
        finally:
            arena.close()
        if as_json:
            typer.echo(json.dumps(summary.to_json(), indent=2))
        else:
            verb = "resumed" if summary.resumed else "run"
            typer.echo(
                f"{verb} {summary.run_id}: {summary.generated} generated, {summary.skipped} already stored, "
                f"{summary.failed} failed of {summary.jobs}; {summary.scored} scored"
            )
            for failure in summary.failures[:20]:
                typer.secho(f"  {failure['kind']}: {failure['model']}: {failure['reason']}", fg="yellow")
        if summary.error:
            raise _fail(summary.error, 1)

    @bench.command("list")
    def list_(as_json: bool = typer.Option(False, "--json")) -> None:
        """Recent runs, newest first."""
        from arena.bench.results import list_runs

        arena = _open_arena()
        try:
            rows = list_runs(arena.factory)
        finally:
            arena.close()
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        for r in rows:
            counts = r["counts"]
            typer.echo(
                f"{r['id']}  {r['status']:<8} {r['suite']:<10} {','.join(r['models'])}  "
                f"{counts.get('stored', '?')}/{counts.get('jobs', '?')} stored"
            )

    @bench.command("report")
    def report(
        run_id: Annotated[str, typer.Argument(help="the run (latest: the newest run)")] = "latest",
        out: Annotated[Path | None, typer.Option("--out", help="write the HTML report here")] = None,
        compare: Annotated[str | None, typer.Option("--compare", help="add a comparison with this earlier run")] = None,
        pair: Annotated[list[str] | None, typer.Option("--pair", help="A_MODEL=B_MODEL for --compare")] = None,
        samples: Annotated[int, typer.Option("--samples", min=0, help="prompts on the contact sheets")] = 6,
        as_json: bool = typer.Option(False, "--json", help="print the report's numbers as JSON"),
        csv_out: Annotated[Path | None, typer.Option("--csv", help="write per-model/category metrics as CSV")] = None,
    ) -> None:
        """A self-contained HTML report (plots, intervals, speed, failures, ratings, contact sheets)."""
        from adapters.errors import ConfigError
        from arena.bench.compare import compare_runs, parse_pairs
        from arena.bench.results import human_ratings, load_run

        if not (out or as_json or csv_out):
            raise _fail("give --out report.html, --json or --csv")
        arena = _open_arena()
        try:
            data = load_run(arena, run_id)
            ratings = human_ratings(arena, data.models)
            comparison = None
            if compare:
                baseline = load_run(arena, compare)
                comparison = compare_runs(baseline, data, pairs=parse_pairs(pair or [], baseline))
            if out:
                from arena.bench.report import render_report

                out.write_text(render_report(data, ratings, arena.media, comparison, samples), encoding="utf-8")
                typer.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)", err=as_json)
        except ConfigError as exc:
            raise _fail(str(exc)) from exc
        finally:
            arena.close()
        if csv_out:
            import csv

            rows = data.metric_rows()
            with csv_out.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["run"])
                writer.writeheader()
                writer.writerows(rows)
        if as_json:
            body = data.to_json(ratings, comparison.to_json() if comparison else None)
            typer.echo(json.dumps(body, indent=2, ensure_ascii=False))

    @bench.command("compare")
    def compare(
        run_a: Annotated[str, typer.Argument(help="the earlier run (baseline)")],
        run_b: Annotated[str, typer.Argument(help="the later run (latest: the newest run)")],
        pair: Annotated[list[str] | None, typer.Option("--pair", help="A_MODEL=B_MODEL (repeatable)")] = None,
        alpha: Annotated[float, typer.Option("--alpha", min=0.001, max=0.5, help="error rate of the page")] = 0.05,
        method: Annotated[str, typer.Option("--method", help="holm (any false verdict) | bh (false share)")] = "holm",
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Paired differences B − A per metric and category, with verdicts whose error rate holds over all of
        them, and the prompts that got most worse."""
        from adapters.errors import ConfigError
        from arena.bench.compare import compare_runs, parse_pairs
        from arena.bench.results import load_run

        if method not in ("holm", "bh"):
            raise _fail(f"--method must be holm or bh, not {method!r}")
        arena = _open_arena()
        try:
            a, b = load_run(arena, run_a), load_run(arena, run_b)
            pairs = parse_pairs(pair or [], a)
            comparison = compare_runs(a, b, pairs=pairs, alpha=alpha, method=method)  # type: ignore[arg-type]
        except (ConfigError, ValueError) as exc:
            raise _fail(str(exc)) from exc
        finally:
            arena.close()
        if as_json:
            typer.echo(json.dumps(comparison.to_json(), indent=2, ensure_ascii=False))
            return
        typer.echo(comparison.to_text(arena.media.root))
