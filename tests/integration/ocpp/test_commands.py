"""Outgoing calls, version-neutral, to real 1.6 and 2.0.1 chargers: what goes on the wire,
typed results, typed errors (rejected, failed, timed out, offline, not supported), and at
most one CALL in flight per charger."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from amphub.application.charging.errors import (
    ChargerOffline,
    CommandFailed,
    CommandNotSupported,
    CommandRejected,
    CommandTimedOut,
)
from amphub.application.charging.ports import (
    MAX_STACK_LEVEL,
    RATE_UNITS,
    ConfigChange,
    ConfigKey,
    ConfigValue,
    ProfileCriteria,
    ResetKind,
    ResetOutcome,
    TriggerableMessage,
)
from amphub.domain.smart_charging import (
    ChargingProfile,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ChargingSchedule,
    SchedulePeriod,
)

from .chargers import charger_16, charger_201, raw
from .conftest import Harness
from .test_v16 import iso, until

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
A = ChargingRateUnit.AMPERES
W = ChargingRateUnit.WATTS


def profile(
    stack_level: int = 1, unit: ChargingRateUnit = A, limit: float = 16.0
) -> ChargingProfile:
    return ChargingProfile(
        profile_id=11,
        stack_level=stack_level,
        purpose=ChargingProfilePurpose.TX_DEFAULT,
        kind=ChargingProfileKind.ABSOLUTE,
        schedule=ChargingSchedule(unit, (SchedulePeriod(0, limit), SchedulePeriod(900, 6.0, 1))),
    )


@pytest.mark.ocpp_options(call_timeout_s=0.5)
async def test_commands_to_a_16_charger(harness: Harness) -> None:
    cp, password = await harness.add_charge_point("CP-16")
    commands = harness.current.commands
    live = harness.current.live
    async with charger_16(harness.url("CP-16"), "CP-16", password) as charger:
        await charger.call(
            call16.BootNotification(charge_point_model="M", charge_point_vendor="V"), suppress=False
        )
        await until(lambda: live.charge_point(cp).capabilities is not None)  # type: ignore[union-attr]
        answers = charger.answers
        answers.received.clear()

        await commands.set_charging_profile(cp, 1, profile(limit=16.04))
        action, sent = answers.received[-1]
        assert action == "SetChargingProfile"
        assert sent["connector_id"] == 1
        assert sent["cs_charging_profiles"]["charging_profile_purpose"] == "TxDefaultProfile"
        schedule = sent["cs_charging_profiles"]["charging_schedule"]
        assert schedule["charging_schedule_period"] == [
            {"start_period": 0, "limit": 16.0},
            {"start_period": 900, "limit": 6.0, "number_phases": 1},
        ]
        for _ in range(2):  # a valid payload is checked once; an invalid one every time
            with pytest.raises(CommandNotSupported, match="stack_level"):
                await commands.set_charging_profile(cp, 1, profile(stack_level=4))
        assert len(answers.received) == 1

        assert await commands.clear_charging_profile(cp, ProfileCriteria(profile_id=11))
        composite = await commands.get_composite_schedule(cp, 1, 3600, A)
        assert composite is not None
        assert composite.schedule.periods[0].limit == 16.0
        assert composite.schedule.start_at == T0

        await commands.remote_start(cp, "guest-card", connector_id=2)
        assert answers.received[-1] == (
            "RemoteStartTransaction",
            {"id_tag": "GUEST-CARD", "connector_id": 2},
        )
        started = await charger.call(
            call16.StartTransaction(
                connector_id=2, id_tag="GUEST-CARD", meter_start=0, timestamp=iso(T0)
            ),
            suppress=False,
        )
        assert started.id_tag_info["status"] == "Accepted"
        await commands.remote_stop(cp, started.transaction_id)
        assert answers.received[-1] == (
            "RemoteStopTransaction",
            {"transaction_id": started.transaction_id},
        )

        values = await commands.get_configuration(cp, [MAX_STACK_LEVEL, ConfigKey("Nonsense")])
        assert values == [
            ConfigValue(MAX_STACK_LEVEL, "3", True),
            ConfigValue(ConfigKey("Nonsense"), None),
        ]
        assert (
            await commands.change_configuration(cp, ConfigKey("HeartbeatInterval"), "60")
            is ConfigChange.ACCEPTED
        )
        await commands.trigger_message(cp, TriggerableMessage.STATUS_NOTIFICATION, 1)
        assert answers.received[-1] == (
            "TriggerMessage",
            {"requested_message": "StatusNotification", "connector_id": 1},
        )
        assert await commands.reset(cp, ResetKind.HARD) is ResetOutcome.ACCEPTED
        assert answers.received[-1] == ("Reset", {"type": "Hard"})

        answers.status = "Rejected"
        with pytest.raises(CommandRejected) as rejected:
            await commands.reset(cp, ResetKind.SOFT)
        assert rejected.value.status == "Rejected"
        answers.status = "Unknown"
        assert not await commands.clear_charging_profile(cp)
        answers.status = "Accepted"
        answers.fail = True
        with pytest.raises(CommandFailed) as failed:
            await commands.trigger_message(cp, TriggerableMessage.HEARTBEAT)
        assert failed.value.error_code == "InternalError"
        answers.fail = False
        answers.delay_s = 1.0
        answered = answers.answered
        with pytest.raises(CommandTimedOut):
            await commands.trigger_message(cp, TriggerableMessage.HEARTBEAT)
        answers.delay_s = 0.0
        await until(lambda: answers.answered > answered)
        await commands.trigger_message(
            cp, TriggerableMessage.HEARTBEAT
        )  # the late reply is ignored
    await until(lambda: not live.charge_point(cp).connected)  # type: ignore[union-attr]
    with pytest.raises(ChargerOffline):
        await commands.reset(cp, ResetKind.SOFT)


async def test_commands_to_a_201_station(harness: Harness) -> None:
    cp, password = await harness.add_charge_point("CS-201")
    commands = harness.current.commands
    live = harness.current.live
    async with charger_201(harness.url("CS-201"), "CS-201", password) as station:
        await station.call(
            call201.BootNotification(
                charging_station={"model": "M", "vendorName": "V"}, reason="PowerUp"
            ),
            suppress=False,
        )
        await until(lambda: live.charge_point(cp).capabilities is not None)  # type: ignore[union-attr]
        answers = station.answers
        assert answers.received[0][0] == "GetVariables"
        with pytest.raises(CommandNotSupported, match="rate_unit"):
            await commands.set_charging_profile(cp, 1, profile(unit=W, limit=11000.0))
        await commands.set_charging_profile(cp, 1, profile())
        action, sent = answers.received[-1]
        assert action == "SetChargingProfile"
        assert sent["evse_id"] == 1
        assert sent["charging_profile"]["charging_schedule"][0]["charging_rate_unit"] == "A"
        composite = await commands.get_composite_schedule(cp, 1, 600)
        assert composite is not None
        assert composite.schedule.rate_unit is W
        assert composite.schedule.duration_s == 600

        await commands.remote_start(cp, "app-token", connector_id=1)
        action, sent = answers.received[-1]
        assert action == "RequestStartTransaction"
        assert sent["id_token"] == {"id_token": "APP-TOKEN", "type": "Central"}
        assert sent["remote_start_id"] > 0
        values = await commands.get_configuration(cp, [RATE_UNITS, ConfigKey("X", "Y")])
        assert [v.value for v in values] == ["A", None]
        with pytest.raises(CommandNotSupported):
            await commands.get_configuration(cp, [ConfigKey("HeartbeatInterval")])
        assert await commands.change_configuration(cp, RATE_UNITS, "A") is ConfigChange.ACCEPTED
        answers.status = "RebootRequired"
        assert (
            await commands.change_configuration(cp, RATE_UNITS, "A") is ConfigChange.REBOOT_REQUIRED
        )
        answers.status = "Scheduled"
        assert await commands.reset(cp, ResetKind.SOFT) is ResetOutcome.SCHEDULED
        assert answers.received[-1] == ("Reset", {"type": "OnIdle"})
        answers.status = "Accepted"
        await commands.trigger_message(cp, TriggerableMessage.STATUS_NOTIFICATION, 1)
        assert answers.received[-1][1]["evse"] == {"id": 1, "connector_id": 1}


async def test_one_call_in_flight_and_queued_calls_fail_when_the_charger_leaves(
    harness: Harness,
) -> None:
    cp, password = await harness.add_charge_point("CP-RAW")
    commander = harness.current.gateway.commander
    async with raw(harness.url("CP-RAW"), "CP-RAW", password) as socket:
        first = asyncio.create_task(commander.trigger_message(cp, TriggerableMessage.HEARTBEAT))
        second = asyncio.create_task(commander.reset(cp, ResetKind.SOFT))
        frame = json.loads(await socket.recv())
        assert frame[:3] == [2, frame[1], "TriggerMessage"]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket.recv(), 0.3)  # nothing else while the first is unanswered
        await socket.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
        await first
        frame = json.loads(await socket.recv())
        assert frame[2] == "Reset"
        third = asyncio.create_task(commander.trigger_message(cp, TriggerableMessage.HEARTBEAT))
        await asyncio.sleep(0)
    with pytest.raises(ChargerOffline):
        await second
    with pytest.raises(ChargerOffline):
        await third
