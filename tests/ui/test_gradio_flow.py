"""The battle flow through the Gradio events (gradio_client against the running app): battle, vote, reveal,
leaderboard; refusals; the named tabs; every label translatable."""

from __future__ import annotations

import re
import time

import httpx
from sqlalchemy import select

from arena.ui.i18n import STRINGS, request_language, text
from db.models import Battle, Prompt
from db.session import transaction
from tests.ui.conftest import LiveApp
from tests.ui.helpers import (
    MEDIA_URL,
    client,
    enabled_demo_names,
    html_with,
    notice,
    revealed_names,
    start_battle,
    until_ready,
    vote,
)


def leaderboard_votes(c) -> int:  # type: ignore[no-untyped-def]
    summary = str(c.predict("any", "all", "none", api_name="/leaderboard")[0])
    match = re.match(r"(\d+) votes", summary)
    return int(match.group(1)) if match else 0


def test_battle_vote_reveal_and_leaderboard(live_app: LiveApp) -> None:
    c = client(live_app.url)
    before = leaderboard_votes(c)
    urls = start_battle(c)
    for url in urls:
        response = httpx.get(f"{live_app.url}/{url}", timeout=10)
        assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
        assert response.content[4:8] == b"ftyp"
    result = vote(c, "left", text_alignment="left", motion="tie")
    names = revealed_names(result)
    demo = enabled_demo_names()
    assert len(names) == 2 and names[0] != names[1] and set(names) <= set(demo), names
    assert 'class="side chosen"' in html_with(result, "arena-reveal")
    assert notice(result) == ""
    assert leaderboard_votes(c) == before + 1
    last = live_app.arena.leaderboard.rows()[-1]
    assert (last["model_a"], last["model_b"]) == (demo[names[0]], demo[names[1]])
    assert last["choice"] == "left" and last["aspects"] == {"text_alignment": "left", "motion": "tie"}


def test_second_vote_is_refused_and_changes_nothing(live_app: LiveApp) -> None:
    c = client(live_app.url)
    start_battle(c)
    vote(c, "left")
    stored = len(live_app.arena.leaderboard.rows())
    refused = vote(c, "right")
    assert notice(refused) == text("err_already_voted", "en")
    assert not any(isinstance(v, str) and "arena-reveal" in v for v in refused)
    rows = live_app.arena.leaderboard.rows()
    assert len(rows) == stored and rows[-1]["choice"] == "left"


def test_vote_without_battle_and_bad_choice_are_refused(live_app: LiveApp) -> None:
    c = client(live_app.url)
    stored = len(live_app.arena.leaderboard.rows())
    assert notice(vote(c, "left")) == text("start_first", "en")
    start_battle(c)
    assert "choice must be one of" in notice(vote(c, "sideways"))
    assert len(live_app.arena.leaderboard.rows()) == stored


def test_next_battle_and_language_filter(live_app: LiveApp) -> None:
    c = client(live_app.url)
    start_battle(c)
    vote(c, "tie")
    result = c.predict("zh", None, None, api_name="/next_battle")
    prompt = str(result[1])
    zh_prompts = {p["text"] for p in live_app.arena.prompts.listed("zh")}
    assert prompt in zh_prompts
    assert "arena-pair" in html_with(result, "arena-pair")


def test_side_by_side_shows_names_and_is_not_on_the_board(live_app: LiveApp) -> None:
    c = client(live_app.url)
    anonymous = live_app.arena.leaderboard.board()["votes"]
    first = live_app.arena.prompts.listed("en")[0]  # suite prompts are the anonymous pool's: named battles take others
    typed = f"  {first['text'].upper()}. "  # the same prompt once normalised
    refused = c.predict("en", None, typed, "demo-faithful", "demo-frozen", api_name="/start_battle_side_by_side")
    assert notice(refused) == text("err_pool_prompt", "en")
    text_ = "A green ball bounces on a white background"
    result = c.predict("en", None, text_, "demo-faithful", "demo-frozen", api_name="/start_battle_side_by_side")
    result = until_ready(c, result, api_name="/battle_progress_side_by_side")  # named battles: own generations
    player = html_with(result, "arena-pair")
    assert "Prism (demo)" in player and "Still (demo)" in player
    assert revealed_names(vote(c, "right", api_name="/vote_side_by_side"))
    assert live_app.arena.leaderboard.board()["votes"] == anonymous
    after = c.predict("en", "demo-faithful", "demo-frozen", api_name="/next_battle_side_by_side")
    assert text("err_pool_prompt", "en") not in str(after)  # it waits for a typed prompt, no random suite one
    same = c.predict("en", None, text_, "demo-faithful", "demo-faithful", api_name="/start_battle_side_by_side")
    assert notice(same) == text("choose_two", "en")


def test_playground_serves_a_signed_clip(live_app: LiveApp) -> None:
    c = client(live_app.url)
    html, provenance = c.predict("demo-flicker", "A green ball bounces", 3, api_name="/playground")
    url = re.search(r'src="(media/clip/[^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert "Strobe (demo)" in html and provenance
    assert httpx.get(f"{live_app.url}/{url}", timeout=10).status_code == 200
    assert httpx.get(f"{live_app.url}/{url.replace('.mp4', 'x.mp4')}", timeout=10).status_code == 404


def test_every_visible_label_is_translated(live_app: LiveApp) -> None:
    config = httpx.get(f"{live_app.url}/config", timeout=10).json()
    untranslated = []
    for component in config["components"]:
        props = component["props"]
        if props.get("visible") is False or props.get("visible") == "hidden":
            continue
        for prop in ("label", "placeholder") + (("value",) if component["type"] in ("button", "markdown") else ()):
            value = props.get(prop)
            if isinstance(value, str) and value and not value.startswith("__i18n__"):
                untranslated.append((component["type"], prop, value))
    assert untranslated == []
    assert set(STRINGS["en"]) == set(STRINGS["zh"])
    assert set(config["i18n_translations"]["zh"]) == set(STRINGS["zh"])


def test_request_language() -> None:
    class Req:
        def __init__(self, header: str) -> None:
            self.headers = {"accept-language": header}

    assert request_language(Req("zh-CN,zh;q=0.9,en;q=0.8")) == "zh"  # type: ignore[arg-type]
    assert request_language(Req("fr-FR,en-US;q=0.7")) == "en"  # type: ignore[arg-type]
    assert request_language(None) == "en"
    assert text("err_already_voted", "zh") != text("err_already_voted", "en")


def test_no_choice_value_is_also_a_translation_key() -> None:
    """The browser translates any string equal to an i18n key, a choice's value included: keep them apart."""
    from arena.ui.common import LANGUAGE_CHOICES
    from arena.ui.duel import ASPECT_CHOICES, CHOICES

    keys = set(STRINGS["en"])
    values = {v for _, v in (*LANGUAGE_CHOICES, *ASPECT_CHOICES)} | set(CHOICES) | {"all", "by_category", "by_language"}
    values |= {"motion", "colour", "count", "composition"}
    assert values & keys == set()


def test_typed_prompt_is_generated_live_and_both_videos_arrive_together(live_app: LiveApp) -> None:
    c = client(live_app.url)
    typed = "三个紫色的星星快速向上飞"
    first = c.predict("any", None, typed, api_name="/start_battle")  # answered at once: the queue's progress
    progress = html_with(first, "arena-progress")
    assert "<progress" in progress and "media/" not in progress
    urls = MEDIA_URL.findall(html_with(until_ready(c, first), "arena-pair"))
    assert len(urls) == 2
    for url in urls:
        assert httpx.get(f"{live_app.url}/{url}", timeout=10).status_code == 200
    with transaction(live_app.arena.factory) as session:
        battle = session.scalars(select(Battle).order_by(Battle.created_at.desc())).first()
        assert battle is not None and battle.source == "live" and battle.status.value == "shown"
        prompt = session.get_one(Prompt, battle.prompt_id)
        assert (prompt.text, prompt.language, prompt.suite) == (typed, "zh", "user")


def test_a_battle_started_on_the_page_answers_no_sooner_than_its_copies_floor(live_app: LiveApp) -> None:
    """As through the JSON API (tests/arena/test_copy_times.py): the start event waits for the slow encodes of its
    copies' size (set to 0.5 s here), so its duration names neither clip."""
    from arena.services.copy_times import RANK

    c = client(live_app.url)
    url = start_battle(c)[0]
    size = len(httpx.get(f"{live_app.url}/{url}", timeout=10).content)
    for _ in range(RANK):
        live_app.arena.media.copy_times.record(size, 0.5)
    began = time.perf_counter()
    start_battle(c)
    assert time.perf_counter() - began >= 1.0  # two copies of that size (a sleep never ends early)
