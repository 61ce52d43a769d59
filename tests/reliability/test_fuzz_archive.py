"""Fuzzing the Hot Papers markdown importer with damaged copies of the real archive.

Every damaged file (truncated, bytes flipped, lines deleted, binary junk, blocks duplicated)
either imports or raises ArchiveParseError naming the file and a line within it; importing a
folder where some files are broken keeps every good file and loses nothing already stored.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.archive import read_post
from bot.archive_import import import_paths
from bot.errors import ArchiveParseError
from bot.store import Store

FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    op = draw(st.sampled_from(["truncate", "flip", "delete_lines", "junk", "duplicate"]))
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    if op == "truncate":
        return data[:at]
    if op == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 10))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
        return bytes(out)
    if op == "delete_lines":
        lines = data.splitlines(keepends=True)
        start = draw(st.integers(0, len(lines) - 1))
        end = draw(st.integers(start + 1, min(len(lines), start + 20)))
        return b"".join(lines[:start] + lines[end:])
    if op == "junk":
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    end = draw(st.integers(at, min(len(data), at + 4000)))
    return data[:end] + data[at:end] + data[end:]


@pytest.fixture
def archive_files(archive_dir: Path) -> list[Path]:
    return sorted(archive_dir.glob("*.md"))


@FUZZ
@given(data=st.data())
def test_a_damaged_post_imports_or_names_file_and_line(
    archive_files, tmp_path_factory, data, figures
):
    source = data.draw(st.sampled_from(archive_files), label="file")
    body = data.draw(damaged(source.read_bytes()), label="damage")
    path = tmp_path_factory.mktemp("fuzz") / source.name
    path.write_bytes(body)
    try:
        ranking, _ = read_post(path)
    except ArchiveParseError as exc:
        assert exc.path.endswith(source.name)
        assert 0 <= exc.line <= body.count(b"\n") + 1
        assert exc.reason and len(str(exc)) < 500
        figures.record("fuzz-archive", files=1, refused=1)
    else:
        assert ranking.day is not None
        figures.record("fuzz-archive", files=1, imported=1)


def test_a_folder_with_broken_files_keeps_every_good_one(archive_files, tmp_path, figures):
    store = Store.open(tmp_path / "hp.db")
    earlier = import_paths(store, archive_files[:3])
    assert earlier.skipped == [] and earlier.days == 3
    before = {d: len(store.load_day(d).papers) for d in store.days()}

    folder = tmp_path / "posts"
    folder.mkdir()
    good = archive_files[3:13]
    for path in good:
        (folder / path.name).write_bytes(path.read_bytes())
    broken_sources = archive_files[:3] + archive_files[13:15]  # includes days already stored
    for n, path in enumerate(broken_sources):
        data = path.read_bytes()
        junk = [data[: len(data) // 3] + b"\x00\x01binary", b"\xff\xfe" + data, b"---\n"][n % 3]
        (folder / f"broken-{n}-{path.name}").write_bytes(junk)

    report = import_paths(store, [folder])
    assert len(report.skipped) == len(broken_sources)
    for exc in report.skipped:
        assert "broken-" in exc.path and exc.line >= 0
    for path in good:
        ranking, _ = read_post(path)
        stored = store.load_day(ranking.day)
        assert stored is not None and len(stored.papers) == len(ranking.papers)
    for day, count in before.items():  # nothing stored earlier was lost or changed
        assert len(store.load_day(day).papers) == count
    store.close()
    figures.record("fuzz-archive", folder_good=len(good), folder_broken=len(broken_sources))
