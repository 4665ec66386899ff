"""Hooks for the parser tests: the one-line accuracy summary at the end of the run."""

from __future__ import annotations

import pytest

# Filled by test_accuracy.py; read when the run's summary is written.
ACCURACY = pytest.StashKey[dict[str, int]]()
# Filled by test_shapes.py.
SHAPES = pytest.StashKey[dict[str, int]]()


@pytest.fixture(scope="session")
def accuracy_totals(request: pytest.FixtureRequest) -> dict[str, int]:
    """Counts the accuracy test fills in: fields right/total, outcomes right/total."""
    return request.config.stash.setdefault(ACCURACY, {})


@pytest.fixture(scope="session")
def shape_totals(request: pytest.FixtureRequest) -> dict[str, int]:
    """Counts the shape corpus test fills in."""
    return request.config.stash.setdefault(SHAPES, {})


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    """Print "parser accuracy: ..." whenever the accuracy test ran, pass or fail."""
    shapes = config.stash.get(SHAPES, {})
    if "cases" in shapes:
        n, m = shapes["fields_right"], shapes["fields_total"]
        terminalreporter.write_line(
            f"shape corpus: {shapes['cases']} documents, outcomes {shapes['outcomes_right']}/"
            f"{shapes['cases']}, fields {n}/{m} ({100 * n / max(m, 1):.1f} %), "
            f"unexpected values {shapes['unexpected']}"
        )
    totals = config.stash.get(ACCURACY, {})
    if "fields_total" not in totals:
        return
    n, m = totals["fields_right"], totals["fields_total"]
    k, total = totals["outcomes_right"], totals["outcomes_total"]
    terminalreporter.write_line(
        f"parser accuracy: fields {n}/{m} ({100 * n / max(m, 1):.1f} %), outcomes {k}/{total}"
    )
