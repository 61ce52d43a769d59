"""Shared fixtures: the real archive (skips when absent), fixed clocks, temporary stores."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.store import Store

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
