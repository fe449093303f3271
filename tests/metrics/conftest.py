"""Shared fixtures: the tiny random encoder (loaded once) and hand-built videos."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_encoder():
    from metrics.encoders import load_encoder

    return load_encoder("tiny-random", device="cpu")


@pytest.fixture(scope="session")
def scorer(tiny_encoder):
    """A Scorer over the session's tiny encoder (its own caches)."""
    from metrics.scorer import Scorer

    return Scorer("tiny-random", device="cpu", batch_size=4, loaded=[tiny_encoder])
