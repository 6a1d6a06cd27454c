"""A meter's status (SPEC §3): NEVER_SEEN → ACTIVE → INACTIVE → ACTIVE …

* NEVER_SEEN: registered, no valid reading yet;
* ACTIVE: the last valid reading arrived within the meter timeout;
* INACTIVE: silent (or only sending rejected readings) for longer than the timeout. The
  balancer then uses the group's fail-safe amps.

Only *valid* readings count, and their time of *receipt* (our clock), not the meter's own
timestamp: a meter whose clock is wrong must not look alive or dead because of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DEFAULT_METER_TIMEOUT = timedelta(seconds=30)


class MeterStatus(StrEnum):
    NEVER_SEEN = "NEVER_SEEN"
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


@dataclass(frozen=True, slots=True)
class StatusTransition:
    """A change of status, recorded as an event. ``at`` is when it happened: the receipt
    of the reading that woke the meter, or the instant its timeout ran out."""

    from_status: MeterStatus
    to_status: MeterStatus
    at: datetime


def next_status(
    status: MeterStatus,
    *,
    last_valid_received_at: datetime | None,
    timeout: timedelta,
    now: datetime,
) -> tuple[MeterStatus, StatusTransition | None]:
    """The status at ``now`` and the transition that leads there, if the status changes.

    A meter is ACTIVE while ``now - last_valid_received_at <= timeout``. Without any valid
    reading on record a NEVER_SEEN meter stays NEVER_SEEN and an ACTIVE one falls INACTIVE
    at once (callers that restart give recorded-ACTIVE meters a grace period by passing
    their start time as the last receipt).
    """
    if last_valid_received_at is None:
        if status is MeterStatus.ACTIVE:
            return MeterStatus.INACTIVE, StatusTransition(status, MeterStatus.INACTIVE, now)
        return status, None
    silent_for = now - last_valid_received_at
    if silent_for > timeout:
        target, at = MeterStatus.INACTIVE, last_valid_received_at + timeout
    else:
        target, at = MeterStatus.ACTIVE, last_valid_received_at
    if target is status:
        return status, None
    return target, StatusTransition(status, target, at)
