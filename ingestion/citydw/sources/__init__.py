"""Where deliveries come from: file drops and paged HTTP APIs.

A source yields :class:`Candidate` files for a dataset and month; the
pipeline archives, parses, validates and loads each one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    """One file offered as (a version of) a dataset's delivery for a month."""

    file_name: str  # base name only, for messages; never used as a path
    source_uri: str
    received_at: datetime
    read: Callable[[], bytes]
    submitted_by: str | None = None  # the portal account that sent it; None for drops and APIs
    size: int | None = None  # bytes, when the source knows it before reading: checked against the limit


class SourceError(Exception):
    """A delivery could not be fetched (server down, bad answer, not configured); says what to check.

    Unlike a missing delivery, this fails the ingest task; Airflow retries it
    unless ``retryable`` says a retry cannot help (a configuration error).
    """

    retryable = True
