"""The container only wires services: use cases live in the services it builds (STYLE.md's debt list)."""

from __future__ import annotations

import inspect

from arena.services.container import Arena


def test_arena_has_no_use_cases_of_its_own() -> None:
    methods = {name for name, _ in inspect.getmembers(Arena, inspect.isroutine) if not name.startswith("_")}
    assert methods == {"create", "start_workers", "close"}, "a use case belongs in a service the container builds"


def test_loaded_generators_and_pool_videos_have_distinct_names() -> None:
    names = list(inspect.signature(Arena).parameters)
    assert {"adapters", "pool_videos", "playground", "prompts"} <= set(names)
    assert "pool" not in names  # "pool" meant the loaded generators while pool_status meant videos
