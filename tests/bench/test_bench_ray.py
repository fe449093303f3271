"""The Ray backend, on a local Ray started in this test: the same rows as the local backend (same videos, same
failures), each model in its own actor, GPUs requested only when the cluster has them.

Videos are compared by the hash of their frames: x264 (mbtree rate control) may encode the same frames into
different bytes from one call to the next, so the MP4 content hash is not a parity check."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from arena.bench.backends import LocalBackend
from arena.bench.ray_backend import RayBackend, actor_options
from arena.bench.runner import BenchRunner, RunOptions
from arena.services.container import Arena
from db.models import Prompt, RunFailure, Video
from db.session import transaction

MODELS = ["demo-faithful", "jitter-a", "broken", "wan-missing"]


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    import ray  # a dev dependency: `make test` must run this test, never skip it

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    temp_dir = Path("/tmp") / f"rb{os.getpid()}"  # short: Ray's Unix sockets live there
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _temp_dir=str(temp_dir),
        object_store_memory=256 * 1024**2,
        logging_level="ERROR",
        log_to_driver=False,
    )
    yield
    ray.shutdown()
    shutil.rmtree(temp_dir, ignore_errors=True)


def _rows(arena: Arena) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with transaction(arena.factory) as session:
        videos = session.execute(
            select(
                Video.model_id,
                Prompt.key,
                Prompt.language,
                Video.seed,
                Video.settings_key,
                Video.provenance["frames_sha256"].as_string(),
                Video.num_frames,
                Video.width,
                Video.height,
                Video.fps,
            )
            .join(Prompt, Prompt.id == Video.prompt_id)
            .order_by(Video.model_id, Prompt.key, Prompt.language, Video.seed)
        ).all()
        failures = session.execute(
            select(RunFailure.model_id, RunFailure.kind, Prompt.key, Prompt.language)
            .join(Prompt, Prompt.id == RunFailure.prompt_id)
            .order_by(RunFailure.model_id, Prompt.key, Prompt.language)
        ).all()
    return [tuple(r) for r in videos], [tuple(r) for r in failures]


def test_ray_backend_gives_the_same_rows_as_the_local_backend(
    local_ray: None, bench_arena: Callable[..., Arena], tmp_path: Path
) -> None:
    local, remote = bench_arena(tmp_path / "local"), bench_arena(tmp_path / "ray")
    options = RunOptions(suite=str(local.settings.prompts_file), models=MODELS, language="zh", score=False)
    by_local = BenchRunner(local, LocalBackend()).run(options)
    by_ray = BenchRunner(remote, RayBackend()).run(RunOptions(**{**vars(options), "backend": "ray"}))
    for summary in (by_local, by_ray):
        assert (summary.jobs, summary.generated, summary.failed) == (16, 8, 8), summary
    assert _rows(local) == _rows(remote)
    videos, failures = _rows(remote)
    assert len(videos) == 8 and {f[:2] for f in failures} == {("broken", "error"), ("wan-missing", "unavailable")}
    again = BenchRunner(remote, RayBackend()).run(options)  # stored videos are not sent to Ray again
    assert (again.generated, again.skipped) == (0, 8)


def test_actors_ask_for_a_gpu_only_when_the_cluster_has_one() -> None:
    assert actor_options({"CPU": 2.0}) == ({"num_cpus": 1}, 2)
    assert actor_options({"CPU": 16.0, "GPU": 4.0}) == ({"num_gpus": 1, "num_cpus": 1}, 4)
    assert actor_options({}) == ({"num_cpus": 1}, 1)
