"""The JSON API against a real uvicorn server on 127.0.0.1, and the blind as a client sees it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from adapters.video_io import decode_mp4, probe_metadata
from arena.api import create_api
from arena.services.container import Arena
from arena.services.views import BattleView
from tests.support.servers import ThreadedServer

SECRET_WORDS = (
    "alpha-7b",
    "beta-v2",
    "gamma-x",
    "broken-model",
    "Alpha Seven",
    "Beta Two",
    "Gamma Ex",
    "Broken One",
    "Org Aleph",
    "Org Bet",
    "Org Gimel",
    "Org Dalet",
    "scripted",
)


@pytest.fixture
def server(arena: Arena) -> Iterator[ThreadedServer]:
    srv = ThreadedServer(create_api(arena)).start()
    yield srv
    srv.stop()


def client(server: ThreadedServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30)


def test_battle_vote_reveal_and_leaderboard(server: ThreadedServer) -> None:
    with client(server) as http:
        assert http.get("/api/leaderboard").json()["votes"] == 0
        battle = http.post("/api/battles", json={}).json()
        assert set(battle) >= {"id", "left", "right", "prompt", "language", "category"}
        for side in ("left", "right"):
            video = http.get(battle[side]["video_url"])
            assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
            assert "content-disposition" not in video.headers
            assert video.content[4:8] == b"ftyp"
        ranged = http.get(battle["left"]["video_url"], headers={"Range": "bytes=0-99"})
        assert ranged.status_code == 206 and len(ranged.content) == 100
        reveal = http.post(f"/api/battles/{battle['id']}/vote", json={"choice": "left"})
        assert reveal.status_code == 200
        names = {reveal.json()["left"]["display_name"], reveal.json()["right"]["display_name"]}
        assert names <= {"Alpha Seven", "Beta Two", "Gamma Ex"} and len(names) == 2
        board = http.get("/api/leaderboard").json()
        assert board["votes"] == 1 and len(board["rows"]) == 2
        assert {"rank", "model", "organisation", "licence", "rating", "ci", "votes", "win_rate"} <= set(
            board["rows"][0]
        )
        assert http.get("/api/leaderboard", params={"language": "xx"}).json()["votes"] == 0
        a, b = (r["model_id"] for r in board["rows"])
        compared = http.get("/api/compare", params={"a": a, "b": b}).json()
        (row,) = compared["rows"]
        assert row["decision"] == "undecided" and row["wins"] + row["losses"] + row["ties"] == 1
        assert compared["family_size"] <= 1 and compared["method"] == "holm" and "promise" in compared
        missing = http.get("/api/compare", params={"a": a, "b": "nope"})
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_votes"


def test_refused_votes_answer_4xx_with_a_reason(server: ThreadedServer) -> None:
    with client(server) as owner, client(server) as stranger:
        battle = owner.post("/api/battles", json={}).json()
        url = f"/api/battles/{battle['id']}/vote"
        unknown = owner.post("/api/battles/nope/vote", json={"choice": "left"})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_battle"
        other = stranger.post(url, json={"choice": "left"})
        assert other.status_code == 403 and other.json()["error"]["reason"]
        assert owner.post(url, json={"choice": "sideways"}).status_code == 422
        early = owner.get(f"/api/battles/{battle['id']}/reveal")
        assert early.status_code == 403 and early.json()["error"]["code"] == "not_voted"
        assert owner.post(url, json={"choice": "tie"}).status_code == 200
        again = owner.post(url, json={"choice": "right"})
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_voted"
        assert owner.get("/api/leaderboard").json()["votes"] == 1


def test_voided_battle_says_why_and_serves_nothing(server: ThreadedServer) -> None:
    with client(server) as http:
        chosen = {"prompt": "a cat", "models": ["alpha-7b", "broken-model"]}
        refused = http.post("/api/battles", json=chosen)  # anonymous battles choose their own models
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid"
        battle = http.post("/api/battles", json={**chosen, "mode": "named"}).json()
        assert battle["status"] == "generating" and battle["queue"]["progress"] == 0.0  # returned at once, queued
        assert battle["left"]["video_url"] is None
        deadline = time.monotonic() + 30
        while battle["status"] == "generating" and time.monotonic() < deadline:
            time.sleep(0.05)
            battle = http.get(f"/api/battles/{battle['id']}").json()
        assert battle["status"] == "voided" and "could not be generated" in battle["reason"]
        assert battle["left"]["video_url"] is None
        vote = http.post(f"/api/battles/{battle['id']}/vote", json={"choice": "left"})
        assert vote.status_code == 409 and vote.json()["error"]["code"] == "voided"
        assert http.get("/media/not-a-token.mp4").status_code == 404


def test_the_blind_holds_for_everything_a_client_receives(server: ThreadedServer) -> None:
    """Over many battles: JSON, headers, file names, bytes and MP4 metadata never name a model before the vote."""
    seen_text: list[str] = []
    seen_bytes: list[bytes] = []
    urls_by_video: dict[bytes, set[str]] = {}
    with client(server) as http:
        for path in ("/api/openapi.json", "/api/prompts", "/healthz"):
            seen_text.append(http.get(path).text)
        for i in range(24):
            body = {"prompt_id": 1 + i % 3} if i % 2 else {}
            response = http.post("/api/battles", json=body)
            seen_text += [response.text, str(dict(response.headers))]
            battle = response.json()
            for side in ("left", "right"):
                url = battle[side]["video_url"]
                video = http.get(url)
                seen_text += [url, str(dict(video.headers)), str(probe_metadata(video.content))]
                seen_bytes.append(video.content)
                frames, _ = decode_mp4(video.content)
                urls_by_video.setdefault(frames.tobytes()[:4096], set()).add(url)
            status = http.get(f"/api/battles/{battle['id']}")
            seen_text.append(status.text)
    text = "\n".join(seen_text).lower()
    for word in SECRET_WORDS:
        assert word.lower() not in text, f"{word!r} leaked before the vote"
        assert not any(word.encode() in blob for blob in seen_bytes), f"{word!r} inside served bytes"
    # A clip shown in several battles gets a new URL and new bytes every time.
    assert any(len(urls) > 1 for urls in urls_by_video.values())
    assert len(set(seen_bytes)) == len(seen_bytes)


def test_the_schema_documents_the_boards_fields(arena: Arena) -> None:
    """The board and its views are typed results: /api/openapi.json names the fields a client reads."""
    schema = create_api(arena).openapi()
    components = schema["components"]["schemas"]
    for path, name, fields in (
        ("/api/leaderboard", "Board", {"votes", "min_votes", "rows", "filters", "hidden", "components"}),
        ("/api/leaderboard/style", "StyleView", {"rows", "coefficients", "battles", "hidden"}),
        ("/api/leaderboard/davidson", "DavidsonView", {"rows", "nu_tie", "nu_bothbad", "hidden"}),
        ("/api/metrics", "MetricBoardJSON", {"encoder", "calibrated", "filters", "rows", "agreement"}),
    ):
        ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{name}"}, (path, ok)
        assert set(components[name]["properties"]) == fields
    assert set(components["Board"]["required"]) == {"votes", "min_votes", "rows", "filters"}  # not hidden, components
    row = components["BoardRow"]["properties"]
    assert {"rank", "model_id", "model", "rating", "ci", "votes", "win_rate", "elo", "insufficient"} <= set(row)
    metric_row = components["MetricRowJSON"]
    assert set(metric_row["required"]) == {"model_id", "model", "metric", "mean", "ci", "videos", "pooling"}
    agreement = components["AgreementRow"]["properties"]
    assert set(agreement) == {"metric", "higher_is_better", "pairs", "pair_accuracy", "spearman_rho", "spearman_p"} | {
        "models"
    }


def test_battle_answers_are_typed_and_a_key_the_type_does_not_name_never_leaves(
    arena: Arena, server: ThreadedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A battle's answer, a vote's reveal and the prompt list go through their response types: the schema documents
    them, and a key a service adds by mistake (here a side's model) is dropped before the client sees it."""
    schema = create_api(arena).openapi()
    components = schema["components"]["schemas"]
    ok = schema["paths"]["/api/battles"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/BattleJSON"}
    assert set(components["BattleJSON"]["required"]) == {"id", "mode", "status", "prompt", "language", "category"} | {
        "left",
        "right",
    }
    vote = schema["paths"]["/api/battles/{battle_id}/vote"]["post"]["responses"]["200"]["content"]
    assert vote["application/json"]["schema"] == {"$ref": "#/components/schemas/RevealJSON"}
    prompts = schema["paths"]["/api/prompts"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert prompts["items"] == {"$ref": "#/components/schemas/PromptJSON"}

    public = BattleView.public
    monkeypatch.setattr(BattleView, "public", lambda self: {**public(self), "left_model": self.left_name})
    with client(server) as http:
        battle = http.post("/api/battles", json={}).json()
        assert "left_model" not in battle and set(battle) >= {"id", "left", "right", "status"}
        assert "left_model" not in http.get(f"/api/battles/{battle['id']}").json()
