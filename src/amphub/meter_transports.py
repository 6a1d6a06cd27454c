"""The meter transports a process runs besides HTTP: the MQTT listener and one Modbus
poller per registered Modbus meter. Part of the wiring (like ``bootstrap``): it joins the
meter adapters to ingestion and follows registrations as they change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from amphub.adapters.meters.maps import RegisterMapError, available_maps, load_register_map
from amphub.adapters.meters.modbus import ModbusMeterSettings, ModbusPollers
from amphub.adapters.meters.mqtt import MqttMeterListener, MqttSettings
from amphub.application.metering import MeterIngestion
from amphub.application.ports import Clock
from amphub.application.site_equipment import RegisteredMeter
from amphub.application.uow import Page, UnitOfWorkFactory, Visibility
from amphub.domain.errors import InvalidValue
from amphub.domain.metering import MeterTransport
from amphub.settings import Settings

LOGGER = logging.getLogger(__name__)
_PLACEHOLDER_SERIAL = "AMH-AAAA-AAAA-AAAA-AAAA"


class MeterTransports:
    def __init__(self, settings: Settings, ingestion: MeterIngestion, clock: Clock) -> None:
        self._settings = settings
        self._ingestion = ingestion
        self.pollers = ModbusPollers(ingestion, clock=clock.now)
        self.mqtt: MqttMeterListener | None = None
        self._mqtt_task: asyncio.Task[None] | None = None

    # -- Modbus register maps: shipped ones by name, extra ones from a configured folder ----

    def _map_names(self) -> dict[str, str]:
        names = {name: name for name in available_maps()}
        folder = self._settings.modbus_maps_dir
        if folder is not None and folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                names.setdefault(path.stem, str(path))
        return names

    def check(self, transport: MeterTransport, settings: dict[str, Any]) -> None:
        """Refuse Modbus settings the poller would refuse, naming the field. A register map
        is named, never given as a path: the API must not open files of its choosing."""
        if transport is not MeterTransport.MODBUS:
            return
        name = str(settings.get("register_map", "eastron_sdm630"))
        names = self._map_names()
        if name not in names:
            raise InvalidValue(
                "transport_settings.register_map",
                f"unknown register map {name!r} (known: {', '.join(sorted(names))})",
            )
        try:
            load_register_map(names[name])
            ModbusMeterSettings.from_mapping(_PLACEHOLDER_SERIAL, settings)
        except (TypeError, ValueError, RegisterMapError) as error:
            raise InvalidValue("transport_settings", str(error)) from error

    def _modbus_settings(self, meter: RegisteredMeter) -> ModbusMeterSettings:
        stored = dict(meter.spec.transport_settings or {})
        name = str(stored.get("register_map", "eastron_sdm630"))
        stored["register_map"] = self._map_names().get(name, name)
        return ModbusMeterSettings.from_mapping(meter.serial, stored)

    def follow(self, serial: str, meter: RegisteredMeter | None) -> None:
        """A registration changed: start, restart or stop that meter's poller."""
        settings = None
        if meter is not None and meter.spec.transport is MeterTransport.MODBUS:
            settings = self._modbus_settings(meter)
        with contextlib.suppress(RuntimeError):  # no running loop: the CLI, nothing to poll
            self.pollers.apply(serial, settings)

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, uow_factory: UnitOfWorkFactory) -> None:
        after = 0
        while True:
            async with uow_factory() as uow:
                page = await uow.meters.list_visible(
                    Visibility(everything=True), None, Page(200, after)
                )
            if not page:
                break
            for meter in page:
                if meter.spec.transport is MeterTransport.MODBUS:
                    try:
                        self.pollers.start(self._modbus_settings(meter))
                    except (ValueError, RegisterMapError) as error:
                        LOGGER.error("meter %s: cannot poll: %s", meter.serial, error)
            after = page[-1].id
        settings = self._settings
        if settings.mqtt_host:
            password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
            self.mqtt = MqttMeterListener(
                MqttSettings(
                    host=settings.mqtt_host,
                    port=settings.mqtt_port,
                    username=settings.mqtt_username,
                    password=password,
                    tls=settings.mqtt_tls,
                ),
                self._ingestion,
            )
            self._mqtt_task = asyncio.create_task(self.mqtt.run(), name="mqtt-meters")

    async def stop(self) -> None:
        if self._mqtt_task is not None:
            self._mqtt_task.cancel()
            await asyncio.gather(self._mqtt_task, return_exceptions=True)
            self._mqtt_task = None
        await self.pollers.aclose()
