"""The declarative base of every table, and the column helpers the table modules share."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Enum
from sqlalchemy.orm import DeclarativeBase


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no native enum type): portable across SQLite and Postgres, easy to migrate.
    return Enum(
        cls,
        native_enum=False,
        validate_strings=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
    )
