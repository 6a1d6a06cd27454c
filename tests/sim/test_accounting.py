"""The simulator's books: overload per phase against the fuse, peaks, sessions."""

from __future__ import annotations

import pytest

from amphub.domain.units import PhaseCurrents
from amphub_sim.accounting import Accounts, SessionRecord


def test_overload_counts_ampere_seconds_per_phase_and_seconds_once() -> None:
    books = Accounts(fuse_a=40.0)
    books.add(PhaseCurrents(10, 10, 10), PhaseCurrents(29, 20, 20), 10)  # fits
    books.add(PhaseCurrents(10, 10, 10), PhaseCurrents(32, 33, 20), 5)  # L1 +2 A, L2 +3 A
    assert books.overload_as == pytest.approx((2 + 3) * 5)
    assert books.overload_s == pytest.approx(5)
    assert books.worst_overload_a == pytest.approx(3)
    assert books.peak_total_a == [42, 43, 30]
    assert books.peak_charging_a == [32, 33, 20]
    assert books.sim_seconds == 15
    assert [(o.at_s, o.phase) for o in books.overloads] == [(10, 1), (10, 2)]
    books.add(PhaseCurrents(10, 10, 10), PhaseCurrents(33, 33, 20), 5)  # still over: no new
    assert len(books.overloads) == 2


def test_rounding_is_not_an_overload() -> None:
    books = Accounts(fuse_a=40.0)
    books.add(PhaseCurrents(20, 0, 0), PhaseCurrents(20.04, 0, 0), 60)
    assert books.overload_s == 0


def test_sessions_met_served_and_the_summary() -> None:
    books = Accounts(fuse_a=63.0)
    books.sessions = [
        SessionRecord(1, "A", 0, 10, 1000, 995, finished=True),
        SessionRecord(2, "B", 0, 10, 1000, 500),
        SessionRecord(3, "C", 0, 10, 1000, 0),
    ]
    assert (books.served, books.met) == (2, 1)
    text = "\n".join(books.lines())
    assert "3 plugged in, 2 charged, 1 got all they needed, 1 left" in text
    assert "against a 63 A fuse" in text
