"""The adapter pool and typed prompts: failures leave nothing half-built; one language guess everywhere."""

from __future__ import annotations

import pytest

from adapters.config import parse_models
from adapters.errors import AdapterUnavailableError
from arena.services.generation import AdapterPool
from arena.services.suites import detect_language
from metrics.encoders import guess_language
from tests.support.ports import reserved_port
from tests.support.servers import ThreadedServer


def test_a_model_whose_server_was_down_works_once_the_server_is_up() -> None:
    from adapters.http_server import create_app
    from tests.support.scripted import ScriptedAdapter

    with reserved_port() as port:  # nothing listens on it until the server below does
        catalog = parse_models(
            {
                "models": [
                    {
                        "id": "inh",
                        "display_name": "In",
                        "kind": "http",
                        "params": {"url": f"http://127.0.0.1:{port}", "health_timeout_s": 1},
                    }
                ]
            },
            "test",
        )
        pool = AdapterPool(catalog)
        for _ in range(2):  # down: the same clear error every time, never a half-stored adapter
            with pytest.raises(AdapterUnavailableError):
                pool.get("inh")
        server = ThreadedServer(create_app(ScriptedAdapter("scripted"), token=None), port=port).start()
        try:
            adapter, limit = pool.get("inh")
            assert adapter.capabilities().max_concurrency == 2 and limit is pool.get("inh")[1]
        finally:
            server.stop()
            pool.close()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("a red ball", "en"),
        ("一个红色的球", "zh"),
        ("猫が走る", "ja"),
        ("고양이", "ko"),
        ("кошка", "ru"),
        ("red 球", "zh"),
    ],
)
def test_typed_prompts_and_metrics_agree_on_the_language(text: str, language: str) -> None:
    assert detect_language(text) == guess_language(text) == language
