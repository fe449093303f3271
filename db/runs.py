"""Benchmark runs (`arena bench run`): one row per run, and the generations of a run that failed."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, _enum, utcnow


class RunStatus(enum.StrEnum):
    running = "running"  # started (or killed: a later `bench run` of the same plan resumes it)
    finished = "finished"
    failed = "failed"  # stopped by an error outside any one model (e.g. the metrics encoder is missing)


class Run(Base):
    """A benchmark run: every (model, prompt, seed) of its plan under one request (its settings_key)."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_key: Mapped[str] = mapped_column(String(64), index=True)  # same plan -> a stopped run resumes
    suite: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))  # en | zh | both
    models: Mapped[list[str]] = mapped_column(JSON)
    seeds: Mapped[list[int]] = mapped_column(JSON)  # the seeds used (derived from the seed indices)
    prompt_ids: Mapped[list[int]] = mapped_column(JSON)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the one request every model got
    settings_key: Mapped[str] = mapped_column(String(64))
    backend: Mapped[str] = mapped_column(String(16))
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus), default=RunStatus.running)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # jobs, generated, skipped, failed
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)  # seed indices, snapped values, options
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)

    failures: Mapped[list[RunFailure]] = relationship(back_populates="run", order_by="RunFailure.id")


class RunFailure(Base):
    """A generation of a run that failed (error, timeout) or was skipped (the model cannot run here)."""

    __tablename__ = "run_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    model_id: Mapped[str] = mapped_column(String(64))
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompts.id"), nullable=True)  # None: whole model
    seed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # error | timeout | unavailable | skipped
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    run: Mapped[Run] = relationship(back_populates="failures")
