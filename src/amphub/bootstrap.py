"""Builds the concrete objects from typed settings. Nothing connects at import time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from amphub.adapters.ocpp.server import OcppGateway, OcppServerConfig
from amphub.adapters.prices.registry import price_providers
from amphub.adapters.security.hashing import Argon2Hasher
from amphub.adapters.solvers.highs import HighsSolver
from amphub.adapters.store.charging import SqlChargingStore
from amphub.adapters.store.database import create_engine, session_factory
from amphub.adapters.store.decisions import SqlDecisionRecorder
from amphub.adapters.store.metering import SqlMeterDirectory, SqlReadingRecorder
from amphub.adapters.store.planning import SqlPlanningUnitOfWork, SqlPriceStore
from amphub.adapters.store.powerbank import SqlPowerBankUnitOfWork
from amphub.adapters.store.uow import SqlUnitOfWork
from amphub.application.auth import AuthService
from amphub.application.balancing.controller import ControllerSettings
from amphub.application.balancing.service import BalancingService
from amphub.application.charge_point_ops import ChargePointOperations
from amphub.application.charging.commands import CommandService
from amphub.application.charging.credentials import ChargePointPasswordHasher
from amphub.application.charging.live import LiveChargerState
from amphub.application.charging.queries import ChargingQueries
from amphub.application.charging.remote_starts import RemoteStarts
from amphub.application.charging.service import ChargingService, ChargingSettings
from amphub.application.groups import GroupService
from amphub.application.id_tags import IdTagService
from amphub.application.meter_auth import MeterAuthenticator
from amphub.application.meter_registry import MeterRegistry
from amphub.application.metering import MeterIngestion
from amphub.application.planning.service import AdaptiveCharging
from amphub.application.ports import Clock, SecretHasher, SystemClock
from amphub.application.powerbank.catalogue import PowerBankCatalogue
from amphub.application.powerbank.programme import PowerBankProgramme
from amphub.application.powerbank.service import PowerBankService
from amphub.application.site_equipment import RegisteredMeter
from amphub.application.tenancy import TenancyService
from amphub.application.uow import UnitOfWork
from amphub.domain.units import PhaseCurrents
from amphub.meter_transports import MeterTransports
from amphub.settings import Settings


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    hasher: SecretHasher
    tenancy: TenancyService
    auth: AuthService
    meters: MeterRegistry
    groups: GroupService
    id_tags: IdTagService
    ingestion: MeterIngestion
    meter_auth: MeterAuthenticator
    meter_transports: MeterTransports
    chargers: LiveChargerState
    charging: ChargingService
    charging_store: SqlChargingStore
    charging_queries: ChargingQueries
    charge_point_passwords: ChargePointPasswordHasher
    gateway: OcppGateway
    commands: CommandService
    balancing: BalancingService
    operations: ChargePointOperations
    powerbank: PowerBankService
    powerbank_catalogue: PowerBankCatalogue
    powerbank_programme: PowerBankProgramme
    adaptive: AdaptiveCharging
    _started: bool = False

    def unit_of_work(self) -> UnitOfWork:
        return SqlUnitOfWork(self.sessions)

    async def start(self) -> None:
        """Start the background services: meter ingestion (writer, status watchdog, MQTT,
        Modbus), one balancing controller per group, then the OCPP endpoint — last, so that
        a charger that connects finds its controller ready to re-apply its limits."""
        if self._started:
            return
        await self.ingestion.start()
        await self.meter_transports.start(self.unit_of_work)
        await self.adaptive.start()
        await self.balancing.start()
        await self.gateway.start()
        self._started = True

    async def close(self) -> None:
        """Stop in the reverse order: no charger is talked to after its controller is gone."""
        if self._started:
            await self.gateway.stop()
            await self.charging_store.close()  # commits the meter values still batched
            await self.balancing.stop()
            await self.adaptive.stop()
            await self.meter_transports.stop()
            await self.ingestion.aclose()
            self._started = False
        await self.powerbank_programme.aclose()
        await self.engine.dispose()


def build(settings: Settings, *, clock: Clock | None = None) -> Container:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    clock = clock or SystemClock()
    hasher = Argon2Hasher(fast=settings.fast_hashing)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(sessions)

    directory = SqlMeterDirectory(sessions)
    ingestion = MeterIngestion(directory, SqlReadingRecorder(sessions), clock=clock.now)
    meter_auth = MeterAuthenticator(directory.pin_hash, hasher, clock)
    transports = MeterTransports(settings, ingestion, clock)
    meters = MeterRegistry(uow, clock, hasher, transport_check=transports.check)
    meters.add_listener(
        lambda meter, serial: _meter_changed(ingestion, meter_auth, transports, meter, serial)
    )

    chargers = LiveChargerState()
    charging_store = SqlChargingStore(sessions)
    remote_starts = RemoteStarts()
    charge_point_passwords = ChargePointPasswordHasher()
    charging = ChargingService(
        charging_store,
        charging_store,
        chargers,
        charge_point_passwords,
        clock,
        ChargingSettings(accept_unknown_as_pending=settings.allow_unknown_chargers),
        remote_starts,
    )
    gateway = OcppGateway(
        OcppServerConfig(
            host=settings.ocpp_host,
            port=settings.ocpp_port,
            max_frame_bytes=settings.ocpp_max_frame_bytes,
            ping_interval_s=settings.ocpp_ping_interval_s or None,
            call_timeout_s=settings.ocpp_call_timeout_s,
            ssl_cert=settings.ssl_cert,
            ssl_key=settings.ssl_key,
        ),
        charging,
        chargers,
    )
    balancing = BalancingService(
        uow,
        ingestion.live,
        chargers,
        gateway.commander,
        SqlDecisionRecorder(sessions),
        clock,
        ControllerSettings(
            cycle_interval=timedelta(seconds=settings.balancing_cycle_s),
            lapse=timedelta(seconds=settings.balancing_lapse_s),
        ),
    )
    groups = GroupService(uow, clock)
    groups.add_listener(balancing.group_changed)
    adaptive = _adaptive_charging(settings, sessions, chargers, charging_store, balancing, clock)
    groups.add_listener(adaptive.planner.group_changed)
    commands = CommandService(gateway.commander, chargers, charging_store, remote_starts, clock)
    queries = ChargingQueries(charging_store, chargers)

    def powerbank_uow() -> SqlPowerBankUnitOfWork:
        return SqlPowerBankUnitOfWork(sessions)

    # PowerBank's DK2 rule looks again at charge points that were registered, moved or
    # re-zoned (tenancy) and at chargers that booted (brand, model, firmware now known).
    tenancy = TenancyService(uow, clock)
    powerbank_programme = PowerBankProgramme(powerbank_uow, clock, chargers)
    tenancy.add_change_listener(powerbank_programme.charge_points_changed)
    chargers.subscribe(powerbank_programme.live_event)
    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        hasher=hasher,
        tenancy=tenancy,
        auth=AuthService(uow, clock, hasher),
        meters=meters,
        groups=groups,
        id_tags=IdTagService(uow, clock),
        ingestion=ingestion,
        meter_auth=meter_auth,
        meter_transports=transports,
        chargers=chargers,
        charging=charging,
        charging_store=charging_store,
        charging_queries=queries,
        charge_point_passwords=charge_point_passwords,
        gateway=gateway,
        commands=commands,
        balancing=balancing,
        powerbank=PowerBankService(powerbank_uow, clock),
        powerbank_catalogue=PowerBankCatalogue(powerbank_uow, clock, powerbank_programme),
        powerbank_programme=powerbank_programme,
        operations=ChargePointOperations(uow, queries, commands, clock),
        adaptive=adaptive,
    )


def _adaptive_charging(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    chargers: LiveChargerState,
    charging_store: SqlChargingStore,
    balancing: BalancingService,
    clock: Clock,
) -> AdaptiveCharging:
    """Schedules and price plans limit connectors through the balancer, the one component
    that sends limits; the planner's building-load forecast is the balancer's last reading."""

    def building_load(group_id: int) -> PhaseCurrents | None:
        view = balancing.view(group_id)
        return None if view is None else view.building_load

    adaptive = AdaptiveCharging.build(
        lambda: SqlPlanningUnitOfWork(sessions),
        SqlPriceStore(sessions),
        price_providers(
            entsoe_token=settings.entsoe_token.get_secret_value() if settings.entsoe_token else "",
            csv_paths=tuple(settings.price_csv),
            online=settings.fetch_prices,
        ),
        HighsSolver(),
        chargers,
        charging_store,
        clock,
        building_load,
    )
    balancing.add_cap_source(adaptive.schedules)
    balancing.add_cap_source(adaptive.planner)
    return adaptive


def _meter_changed(
    ingestion: MeterIngestion,
    meter_auth: MeterAuthenticator,
    transports: MeterTransports,
    meter: RegisteredMeter | None,
    serial: str,
) -> None:
    """Registration changes reach ingestion, the PIN cache and the Modbus pollers at once,
    not at the next restart."""
    meter_auth.forget(serial)
    if meter is None:
        ingestion.forget_meter(serial)
    else:
        ingestion.update_meter(meter.config())
    transports.follow(serial, meter)
