"""The reliability suite's figures: tests record them, and pytest prints them at the end.

    def test_x(figures):
        figures.record("source-outages", runs=3, partial=1)

prints `RELIABILITY source-outages: runs=3 partial=1` in a "reliability figures" section of
the terminal summary (no -s needed). Recording the same figure name again adds up the counts.
"""

from __future__ import annotations

from collections import defaultdict

import pytest


class Figures:
    """Named counters, summed over the tests that record them."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, float]] = defaultdict(dict)

    def record(self, name: str, **values: float) -> None:
        for key, value in values.items():
            self.values[name][key] = self.values[name].get(key, 0) + value

    def set(self, name: str, **values: float) -> None:
        self.values[name].update(values)

    def lines(self) -> list[str]:
        return [
            f"RELIABILITY {name}: " + " ".join(f"{k}={_fmt(v)}" for k, v in values.items())
            for name, values in sorted(self.values.items())
        ]


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


FIGURES = Figures()


@pytest.fixture(scope="session")
def figures() -> Figures:
    return FIGURES


def pytest_terminal_summary(terminalreporter) -> None:
    lines = FIGURES.lines()
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)
