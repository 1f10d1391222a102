"""How often a run looks for a cancel on its lease: as configured while the store answers fast,
less often when it is slow, so a loaded store is not kept busier with checks than with runs.
(Renewals keep their own pace, whatever a check takes: test_faults.py.)"""

from __future__ import annotations

import pytest

from wayfarer.runs import lease_poll_interval

LEASE = 30.0


@pytest.mark.parametrize("answered_in", [0.0, 0.005, 0.25])
def test_a_fast_store_is_checked_at_the_configured_pace(answered_in: float) -> None:
    assert lease_poll_interval(1.0, answered_in, LEASE) == 1.0


def test_a_slow_store_is_checked_less_often() -> None:
    assert lease_poll_interval(1.0, 0.5, LEASE) == 2.0
    assert lease_poll_interval(1.0, 1.0, LEASE) == 4.0


@pytest.mark.parametrize("answered_in", [2.0, 10.0, 60.0])
def test_however_slow_the_store_a_check_waits_at_most_a_sixth_of_the_lease(answered_in: float) -> None:
    assert lease_poll_interval(1.0, answered_in, LEASE) == LEASE / 6
