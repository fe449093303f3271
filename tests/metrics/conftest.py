"""Shared fixtures: the tiny random encoders (built once per session) and hand-built videos."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_encoder():
    from metrics.encoders import load_encoder

    return load_encoder("tiny-random", device="cpu")


@pytest.fixture(scope="session")
def tiny_dino_dir(tmp_path_factory):
    """A tiny random ViT (DINO's architecture, patch 16) saved with save_pretrained: the real loading path."""
    from tests.metrics.models import save_tiny_vit

    return save_tiny_vit(tmp_path_factory.mktemp("dino") / "tiny-dino")


@pytest.fixture(scope="session")
def tiny_raft():
    """A tiny random torchvision RAFT (frames from 32 pixels a side; the file-loading path has its own tests)."""
    from tests.metrics.models import tiny_raft

    return tiny_raft(flow_scale=0.02)


@pytest.fixture(scope="session")
def scorer(tiny_encoder, tiny_dino_dir, tiny_raft):
    """A Scorer over the session's tiny models (its own caches)."""
    from metrics.scorer import Scorer

    return Scorer("tiny-random", device="cpu", batch_size=4, loaded=[tiny_encoder], dino=tiny_dino_dir, raft=tiny_raft)
