"""The meter status machine: NEVER_SEEN → ACTIVE → INACTIVE → ACTIVE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from amphub.domain.metering import MeterStatus, StatusTransition, next_status

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TIMEOUT = timedelta(seconds=30)
S = timedelta(seconds=1)

NEVER, ACTIVE, INACTIVE = MeterStatus.NEVER_SEEN, MeterStatus.ACTIVE, MeterStatus.INACTIVE


@pytest.mark.parametrize(
    ("status", "last", "now", "expected", "transition"),
    [
        # registered, nothing received: stays NEVER_SEEN forever
        (NEVER, None, T0 + 1000 * S, NEVER, None),
        # first valid reading
        (NEVER, T0, T0, ACTIVE, StatusTransition(NEVER, ACTIVE, T0)),
        # within the timeout, and exactly at it
        (ACTIVE, T0, T0 + 29 * S, ACTIVE, None),
        (ACTIVE, T0, T0 + TIMEOUT, ACTIVE, None),
        # silent longer than the timeout: INACTIVE as of the moment it ran out
        (ACTIVE, T0, T0 + 31 * S, INACTIVE, StatusTransition(ACTIVE, INACTIVE, T0 + TIMEOUT)),
        (ACTIVE, T0, T0 + 3600 * S, INACTIVE, StatusTransition(ACTIVE, INACTIVE, T0 + TIMEOUT)),
        # stays INACTIVE without a new transition
        (INACTIVE, T0, T0 + 60 * S, INACTIVE, None),
        # a new valid reading wakes it
        (
            INACTIVE,
            T0 + 60 * S,
            T0 + 60 * S,
            ACTIVE,
            StatusTransition(INACTIVE, ACTIVE, T0 + 60 * S),
        ),
        # the first reading is already too old when looked at: straight to INACTIVE
        (NEVER, T0, T0 + 31 * S, INACTIVE, StatusTransition(NEVER, INACTIVE, T0 + TIMEOUT)),
        # recorded ACTIVE but no receipt known: INACTIVE now
        (ACTIVE, None, T0, INACTIVE, StatusTransition(ACTIVE, INACTIVE, T0)),
        (INACTIVE, None, T0, INACTIVE, None),
    ],
)
def test_next_status(
    status: MeterStatus,
    last: datetime | None,
    now: datetime,
    expected: MeterStatus,
    transition: StatusTransition | None,
) -> None:
    assert next_status(status, last_valid_received_at=last, timeout=TIMEOUT, now=now) == (
        expected,
        transition,
    )


def test_a_day_of_a_flaky_meter_alternates_and_never_repeats_a_status() -> None:
    """Replaying receipts with gaps gives strictly alternating transitions."""
    receipts = [T0 + k * S for k in (*range(0, 20), *range(100, 110), *range(200, 201))]
    status, last = NEVER, None
    events: list[StatusTransition] = []
    for tick in range(0, 260):
        now = T0 + tick * S
        if now in receipts:
            last = now
        status, transition = next_status(
            status, last_valid_received_at=last, timeout=TIMEOUT, now=now
        )
        if transition:
            events.append(transition)
    assert [(e.from_status, e.to_status) for e in events] == [
        (NEVER, ACTIVE),
        (ACTIVE, INACTIVE),
        (INACTIVE, ACTIVE),
        (ACTIVE, INACTIVE),
        (INACTIVE, ACTIVE),
        (ACTIVE, INACTIVE),
    ]
    assert [e.at for e in events] == [
        T0,
        T0 + 19 * S + TIMEOUT,
        T0 + 100 * S,
        T0 + 109 * S + TIMEOUT,
        T0 + 200 * S,
        T0 + 200 * S + TIMEOUT,
    ]
