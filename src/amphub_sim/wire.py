"""OCPP payloads ↔ the simulator's values: charging profiles in, sampled values out.

Payloads arrive as the ``ocpp`` library hands them to handlers: validated against the
official schemas, keys in snake_case.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from amphub_sim.charger import Connector
from amphub_sim.composite import Kind, Period, Profile, Purpose, Schedule

_PURPOSES = {
    "ChargePointMaxProfile": Purpose.CHARGER_MAX,
    "ChargingStationMaxProfile": Purpose.CHARGER_MAX,
    "TxDefaultProfile": Purpose.TX_DEFAULT,
    "TxProfile": Purpose.TX,
}


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def purpose_of(name: str) -> Purpose:
    return _PURPOSES[name]


def _schedule(raw: dict[str, Any]) -> Schedule:
    return Schedule(
        rate_unit=raw["charging_rate_unit"],
        periods=tuple(
            Period(int(p["start_period"]), float(p["limit"]), p.get("number_phases"))
            for p in raw["charging_schedule_period"]
        ),
        duration_s=raw.get("duration"),
        start=parse_time(raw.get("start_schedule")),
        min_rate=raw.get("min_charging_rate"),
    )


def _profile(raw: dict[str, Any], schedule: dict[str, Any], connector_id: int) -> Profile:
    transaction = raw.get("transaction_id")
    return Profile(
        profile_id=int(raw.get("charging_profile_id", raw.get("id", 0))),
        stack_level=int(raw["stack_level"]),
        purpose=purpose_of(raw["charging_profile_purpose"]),
        kind=Kind(raw["charging_profile_kind"]),
        schedule=_schedule(schedule),
        connector_id=connector_id,
        transaction_id=None if transaction is None else str(transaction),
        recurrency=raw.get("recurrency_kind"),
        valid_from=parse_time(raw.get("valid_from")),
        valid_to=parse_time(raw.get("valid_to")),
    )


def profile_16(connector_id: int, raw: dict[str, Any]) -> Profile:
    """``csChargingProfiles`` of a 1.6 SetChargingProfile."""
    return _profile(raw, raw["charging_schedule"], connector_id)


def profile_201(evse_id: int, raw: dict[str, Any]) -> Profile:
    """``chargingProfile`` of a 2.0.1 SetChargingProfile. A profile may carry up to three
    schedules (for ISO 15118 negotiation); an AC charger without it uses the first."""
    return _profile(raw, raw["charging_schedule"][0], evse_id)


def sampled_values(connector: Connector, soc: float | None) -> list[dict[str, Any]]:
    """What a metering charger reports: current per phase it is wired on, offered current,
    active power and the energy register (1.6 shape, values as text)."""
    values: list[dict[str, Any]] = []
    currents = connector.charger_currents().as_tuple()[: connector.phases]
    for index, current in enumerate(currents, start=1):
        values.append(
            {
                "value": f"{current:.2f}",
                "measurand": "Current.Import",
                "phase": f"L{index}",
                "unit": "A",
                "location": "Outlet",
                "context": "Sample.Periodic",
            }
        )
    values.extend(
        [
            {
                "value": f"{connector.offered_a:.1f}",
                "measurand": "Current.Offered",
                "unit": "A",
                "context": "Sample.Periodic",
            },
            {
                "value": f"{connector.power_w():.0f}",
                "measurand": "Power.Active.Import",
                "unit": "W",
                "location": "Outlet",
                "context": "Sample.Periodic",
            },
            {
                "value": f"{connector.energy_wh:.1f}",
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
                "location": "Outlet",
                "context": "Sample.Periodic",
            },
        ]
    )
    if soc is not None:
        values.append(
            {
                "value": f"{soc * 100:.0f}",
                "measurand": "SoC",
                "unit": "Percent",
                "location": "EV",
                "context": "Sample.Periodic",
            }
        )
    return values


def sampled_values_201(connector: Connector, soc: float | None) -> list[dict[str, Any]]:
    """The same in the 2.0.1 shape: numbers, and the unit in ``unit_of_measure``."""
    result = []
    for value in sampled_values(connector, soc):
        item: dict[str, Any] = {
            "value": float(value["value"]),
            "measurand": value["measurand"],
            "context": value["context"],
            "unit_of_measure": {"unit": value["unit"]},
        }
        if "phase" in value:
            item["phase"] = value["phase"]
        if "location" in value:
            item["location"] = value["location"]
        result.append(item)
    return result
