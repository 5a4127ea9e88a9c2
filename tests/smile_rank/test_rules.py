"""The pure rules: points of a photo, duplicate hashes, periods, and the allocation (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.smile_rank import scoring
from functions.smile_rank.allocation import allocate
from functions.smile_rank.periods import (
    month_key,
    next_period,
    parse_period,
    period_id,
    previous_period,
)
from tests.smile_rank.helpers import face


def test_face_points_and_the_me_weight() -> None:
    scores = scoring.score_faces(
        [face(95, is_me=True), face(44), face(100, usable=False), face(None)], me_weight=2
    )
    assert [s.points for s in scores] == [20, 4, 0, 0]
    assert scoring.photo_points(scores, photo_cap=50) == 24
    assert scoring.photo_points(scores, photo_cap=10) == 10


def test_face_signature_ignores_unusable_faces_and_order() -> None:
    a = [face(50, person="p2"), face(10, person="p1"), face(90, usable=False, person="p9"), face(3)]
    b = [face(3), face(70, person="p1"), face(20, person="p2")]
    assert scoring.face_signature(a) == scoring.face_signature(b) == "?,p1,p2"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0", 0),
        ("ffffffffffffffff", -1),
        ("8000000000000000", -(1 << 63)),
        ("7fffffffffffffff", (1 << 63) - 1),
        ("xyz", None),
        ("1" * 17, None),
    ],
)
def test_dhash_fits_a_signed_bigint(value: str, expected: int | None) -> None:
    assert scoring.parse_dhash(value) == expected


@given(st.integers(0, (1 << 64) - 1), st.sets(st.integers(0, 63), max_size=10))
def test_hamming_distance_counts_flipped_bits(value: int, bits: set[int]) -> None:
    flipped = value
    for bit in bits:
        flipped ^= 1 << bit
    a, b = scoring.parse_dhash(f"{value:016x}"), scoring.parse_dhash(f"{flipped:016x}")
    assert scoring.hamming(a, b) == len(bits)


def test_periods_are_iso_weeks_in_utc() -> None:
    assert period_id(datetime(2026, 11, 22, 23, 59, tzinfo=UTC)) == "2026-W47"
    assert period_id(datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == "2026-W48"
    assert period_id(datetime(2027, 1, 1, tzinfo=UTC)) == "2026-W53"
    start, end = parse_period("2026-W53")
    assert (start.isoformat(), end.isoformat()) == (
        "2026-12-28T00:00:00+00:00",
        "2027-01-04T00:00:00+00:00",
    )
    assert next_period("2026-W53") == "2027-W01" and previous_period("2027-W01") == "2026-W53"
    assert month_key(datetime(2026, 11, 30, 23, tzinfo=UTC)) == "2026-11"
    with pytest.raises(ValueError):
        parse_period("2026-W54")


points_maps = st.dictionaries(st.uuids().map(str), st.integers(0, 5000), max_size=40)


@given(points_maps, st.integers(0, 10**7), st.integers(0, 1000))
def test_allocation_never_exceeds_the_budget_and_loses_no_unit(
    points: dict[str, int], budget: int, rate: int
) -> None:
    result = allocate(points, budget, rate)
    total = sum(s.amount_minor for s in result.shares)
    requested = sum(points.values()) * rate
    assert total == result.allocated_minor == min(budget, requested)  # nothing lost to rounding
    assert total <= budget
    assert all(s.amount_minor >= 0 for s in result.shares)
    assert {s.user_id for s in result.shares} == {u for u, p in points.items() if p > 0}
    if result.budget_bound:
        total_points = sum(points.values())
        for share in result.shares:
            exact = Fraction(budget * share.points, total_points)
            # Each gets its exact share rounded down or up, never further off.
            assert exact - 1 < share.amount_minor < exact + 1
        assert sum(s.remainder_unit for s in result.shares) == budget - sum(
            budget * s.points // total_points for s in result.shares
        )
    else:
        assert all(s.amount_minor == s.points * rate for s in result.shares)


@given(points_maps, st.integers(0, 10**6), st.integers(0, 100))
def test_allocation_is_deterministic_whatever_the_input_order(
    points: dict[str, int], budget: int, rate: int
) -> None:
    reordered = dict(reversed(list(points.items())))
    assert allocate(points, budget, rate) == allocate(reordered, budget, rate)


@given(points_maps, st.integers(1, 10**6), st.integers(1, 100))
def test_more_points_never_earn_less(points: dict[str, int], budget: int, rate: int) -> None:
    shares = sorted(allocate(points, budget, rate).shares, key=lambda s: s.points)
    for low, high in itertools.pairwise(shares):
        assert low.amount_minor <= high.amount_minor or low.points == high.points


def test_remainder_units_go_to_the_largest_remainders() -> None:
    # 100 KRW among 3 equal users: 33 each and one leftover unit to the smallest user id.
    result = allocate({"b": 1, "a": 1, "c": 1}, 100, 1000)
    assert [(s.user_id, s.amount_minor, s.remainder_unit) for s in result.shares] == [
        ("a", 34, 1),
        ("b", 33, 0),
        ("c", 33, 0),
    ]
    # 10 among 2:1 → 6.67 / 3.33: the larger remainder (.67) takes the unit.
    result = allocate({"x": 2, "y": 1}, 10, 100)
    assert [(s.user_id, s.amount_minor) for s in result.shares] == [("x", 7), ("y", 3)]
