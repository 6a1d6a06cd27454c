"""Counters of what ingestion did, per meter: the "counter" half of "a log line and a
counter" for MQTT and Modbus, and the numbers an operator looks at first."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from amphub.domain.metering import MeterTransport, RejectionReason


@dataclass(slots=True)
class IngestCounters:
    accepted: Counter[int] = field(default_factory=Counter)
    """Readings accepted, per meter id."""
    rejected: Counter[tuple[int, RejectionReason]] = field(default_factory=Counter)
    """Readings refused, per meter id and reason."""
    stale: Counter[int] = field(default_factory=Counter)
    """Accepted readings too old to be live (stored as history only), per meter id."""
    payload_errors: Counter[MeterTransport] = field(default_factory=Counter)
    """Messages that were not readings at all, per transport."""
    unknown_serials: Counter[MeterTransport] = field(default_factory=Counter)
    """Messages for serials that are not registered (or for another transport)."""
    recorder_failures: int = 0
    """Batches the recorder failed to store (their readings are lost to history)."""

    def rejected_for(self, meter_id: int) -> dict[RejectionReason, int]:
        return {reason: n for (mid, reason), n in self.rejected.items() if mid == meter_id}
