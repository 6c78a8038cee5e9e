"""The bad-input audit (docs/bad-input.md) names a test for every row: each named test exists."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AUDIT = ROOT / "docs" / "bad-input.md"


def _rows():
    return [line for line in AUDIT.read_text().splitlines() if line.startswith("| ") and "---" not in line]


def _named_tests(row: str) -> list[tuple[str, str]]:
    return re.findall(r"`((?:e2e/)?test_\w+\.py)::(test_\w+)", row)


def test_every_row_names_a_test():
    rows = [row for row in _rows() if not row.startswith("| input") and not row.startswith("| page")]
    assert len(rows) >= 30
    unnamed = [row for row in rows if not _named_tests(row) and "| same" not in row and "same |" not in row]
    assert not unnamed, unnamed


@pytest.mark.parametrize("file, test", sorted({t for row in _rows() for t in _named_tests(row)}))
def test_each_named_test_exists(file, test):
    assert re.search(rf"^def {test}\(", (ROOT / "tests" / file).read_text(), re.M), f"{file}::{test}"
