"""The test bed's own helpers."""
from __future__ import annotations

from helpers import sampled


def test_sampled_is_deterministic_keeps_order_and_full_mode_keeps_all(monkeypatch) -> None:
    cases = [f"case-{i}" for i in range(20)]
    monkeypatch.delenv("SHIPLINE_TEST_FULL", raising=False)
    first = sampled(cases, 5)
    assert first == sampled(cases, 5) and len(first) == 5
    assert first == [c for c in cases if c in first]  # original order
    monkeypatch.setenv("SHIPLINE_TEST_FULL", "1")
    assert sampled(cases, 5) == cases
