"""How often a run checks its lease: as configured while the store answers fast, less often
when it is slow (so a loaded store is not kept busier with checks than with runs), and never
so late that the renewal misses the fence."""

from __future__ import annotations

import pytest

from wayfarer.leases import FENCE_SAFETY_FRACTION
from wayfarer.runs import lease_poll_interval

LEASE = 30.0
LATER = 10.0  # seconds until the renewal is due


@pytest.mark.parametrize("answered_in", [0.0, 0.005, 0.25])
def test_a_fast_store_is_checked_at_the_configured_pace(answered_in: float) -> None:
    assert lease_poll_interval(1.0, answered_in, LEASE, LATER) == 1.0


def test_a_slow_store_is_checked_less_often() -> None:
    assert lease_poll_interval(1.0, 0.5, LEASE, LATER) == 2.0
    assert lease_poll_interval(1.0, 1.0, LEASE, LATER) == 4.0


@pytest.mark.parametrize("answered_in", [2.0, 10.0, 60.0])
def test_however_slow_the_store_the_renewal_comes_before_the_fence_closes(answered_in: float) -> None:
    wait = lease_poll_interval(1.0, answered_in, LEASE, LATER)
    renewal_due_at = LEASE / 3  # seconds after the last renewal (runs.RunService._keep_lease)
    fence_closes_at = LEASE * (1 - FENCE_SAFETY_FRACTION)
    assert renewal_due_at + wait < fence_closes_at
    assert wait == LEASE / 6


@pytest.mark.parametrize("due_in", [3.0, 1.5])
def test_the_longer_wait_ends_when_the_renewal_is_due(due_in: float) -> None:
    # A slow store (2 s answers) would wait 5 s; the renewal is due sooner, and waits for no one.
    assert lease_poll_interval(1.0, 2.0, LEASE, due_in) == due_in


@pytest.mark.parametrize("due_in", [0.5, 0.0, -4.0])
def test_a_renewal_due_or_overdue_is_tried_at_the_configured_pace(due_in: float) -> None:
    assert lease_poll_interval(1.0, 2.0, LEASE, due_in) == 1.0
