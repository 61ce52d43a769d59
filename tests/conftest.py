"""Shared fixtures: the real archive (skips when absent), fixed clocks, temporary stores.

Property tests run Hypothesis's "ci" profile unless HYPOTHESIS_PROFILE names another: the same
examples on every run (derandomized), no per-example deadline and no too_slow health check, so
neither a lucky draw nor a loaded machine can turn a run red that the previous one passed.
`HYPOTHESIS_PROFILE=explore uv run pytest` draws new random examples each run to hunt for bugs
(and keeps what fails in .hypothesis/ to replay it).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from bot.store import Store

settings.register_profile(
    "explore", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ARCHIVE = Path(__file__).resolve().parents[1].parent / "shared" / "archive"
SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed"


@pytest.fixture
def archive_dir() -> Path:
    """../shared/archive, or skip the test when it is not beside the project."""
    if not ARCHIVE.is_dir():
        pytest.skip("../shared/archive is not present")
    return ARCHIVE


@pytest.fixture
def seed_dir() -> Path:
    if not SEED.is_dir():
        pytest.skip("../shared/seed is not present")
    return SEED


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "hotpapers.db")
    yield s
    s.close()


@pytest.fixture
def fixed_now() -> dt.datetime:
    return dt.datetime(2021, 8, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(fixed_now: dt.datetime):
    return lambda: fixed_now
