"""Blindness of the Gradio side: everything a client receives before it votes names no model, and the same
stored clip shown in two battles cannot be linked by its URL or its bytes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from collections import defaultdict

import httpx
import numpy as np

from adapters.video_io import decode_mp4, probe_metadata
from tests.ui.conftest import LiveApp
from tests.ui.helpers import MEDIA_URL, client, enabled_demo_names, html_with, models_file_entries, revealed_names, vote

BATTLES = 20


def forbidden_terms() -> list[str]:
    """Full ids, display names and organisations of every model in the models file (never bare words)."""
    terms = {str(m[key]) for m in models_file_entries() for key in ("id", "display_name", "organisation")}
    return sorted(t.lower() for t in terms)


def leaks(blob: bytes, terms: list[str]) -> list[str]:
    """Terms found case-insensitively in raw bytes (UTF-8 or UTF-16, as MP4 tags may be) or in the decoded text
    (JSON with its escapes undone)."""
    raw = blob.lower()
    decoded = blob.decode("utf-8", errors="ignore")
    with contextlib.suppress(ValueError):
        decoded = json.dumps(json.loads(decoded), ensure_ascii=False)
    decoded = decoded.lower()
    encodings = ("utf-8", "utf-16-le", "utf-16-be")
    return [t for t in terms if t in decoded or any(t.encode(e) in raw for e in encodings)]


def test_terms_are_checked_for_real() -> None:
    terms = forbidden_terms()
    assert "prism (demo)" in terms and "demo-frozen" in terms and "glacier systems" in terms
    assert leaks(b"... PRISM (demo) ...", terms) == ["prism (demo)"]
    assert leaks(b"<b>Still (demo)</b>", terms) == ["still (demo)"]
    assert leaks("tag: Umbra (demo)".encode("utf-16-le"), terms) == ["umbra (demo)"]
    assert leaks(b'{"org": "Shade\\u0020Works"}', terms) == ["shade works"]
    assert leaks(b"a still prism of light", terms) == []


def test_nothing_before_the_vote_names_a_model(live_app: LiveApp) -> None:
    terms = forbidden_terms()
    received: list[tuple[str, bytes]] = []
    with httpx.Client(base_url=live_app.url, timeout=20) as http:
        for path in ("/", "/config", "/gradio_api/info"):
            response = http.get(path)
            assert response.status_code == 200, path
            received.append((f"GET {path}", response.content))
        c = client(live_app.url)
        demo = enabled_demo_names()
        served: dict[tuple[str, str], list[tuple[str, bytes]]] = defaultdict(list)
        rng = secrets.SystemRandom()
        for i in range(BATTLES):
            result = c.predict("any", None, "", api_name="/start_battle")
            received.append((f"start_battle #{i}", json.dumps(result, ensure_ascii=False).encode()))
            urls = MEDIA_URL.findall(html_with(result, "arena-pair"))
            assert len(urls) == 2
            clips = []
            for url in urls:
                response = http.get(f"/{url}")
                assert response.status_code == 200
                headers = json.dumps(dict(response.headers)).encode()
                assert "content-disposition" not in response.headers
                received += [(f"headers {url}", headers), (f"bytes {url}", response.content)]
                received.append((f"metadata {url}", json.dumps(probe_metadata(response.content)).encode()))
                clips.append((url, response.content))
            names = revealed_names(vote(c, rng.choice(["left", "right", "tie", "both_bad"])))
            prompt = str(result[1])
            for (url, data), name in zip(clips, names, strict=True):
                served[prompt, demo[name]].append((url, data))

    found = {what: hits for what, blob in received if (hits := leaks(blob, terms))}
    assert found == {}, f"model identities reached the client before the vote: {found}"

    repeated = {key: shown for key, shown in served.items() if len(shown) > 1}
    assert repeated, "no stored clip was shown twice; the small suite should make repeats certain"
    for key, shown in repeated.items():
        urls = [url for url, _ in shown]
        digests = [hashlib.sha256(data).hexdigest() for _, data in shown]
        assert len(set(urls)) == len(urls), key
        assert len(set(digests)) == len(digests), key
        assert len({len(data) for _, data in shown}) == 1, key  # one length for every copy
        frames = [decode_mp4(data)[0].astype(np.float64) for _, data in shown]  # and the same picture, to the eye
        assert all(10 * np.log10(255**2 / np.mean((frames[0] - f) ** 2)) > 38 for f in frames[1:]), key
