"""What planning needs from outside: prices, a solver, a store, and the sessions running."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from amphub.application.uow import UnitOfWork
from amphub.domain.planning.needs import NeedDefault, SessionNeed
from amphub.domain.planning.problem import PlanningProblem, Solution
from amphub.domain.planning.schedule import Schedule
from amphub.domain.planning.tariffs import PricePoint, SiteTariff
from amphub.domain.planning.warm_start import WarmStart


class PriceUnavailable(Exception):
    """A price source could not answer (unreachable, refused, malformed answer)."""


class PriceProvider(Protocol):
    """Day-ahead prices of a bidding zone, in EUR/MWh, for delivery in [start, end) (UTC).
    An interval not yet published is simply absent from the answer."""

    name: str

    async def day_ahead(self, zone: str, start: datetime, end: datetime) -> list[PricePoint]: ...


class Solver(Protocol):
    """Solves the planner's LP. Synchronous and CPU-bound: call it off the event loop.
    ``warm_start``: an earlier optimum to start from (the answer is the same without it)."""

    def solve(self, problem: PlanningProblem, warm_start: WarmStart | None = None) -> Solution: ...


@dataclass(frozen=True, slots=True)
class StoredTariff:
    site_id: int
    price_source: str
    """A provider's name (``energi_data_service``, ``entsoe``, ``nordpool``, ``csv``) or
    ``none``: without prices, cars charge at once."""
    tariff: SiteTariff


class PlanningRepository(Protocol):
    async def schedule(self, charge_point_id: int) -> Schedule | None: ...
    async def put_schedule(self, schedule: Schedule, at: datetime) -> None: ...
    async def delete_schedule(self, charge_point_id: int) -> bool: ...
    async def schedules(self) -> list[Schedule]: ...

    async def tariff(self, site_id: int) -> StoredTariff | None: ...
    async def put_tariff(self, stored: StoredTariff, at: datetime) -> None: ...
    async def tariffs(self) -> list[StoredTariff]: ...

    async def charge_point_default(self, charge_point_id: int) -> NeedDefault | None: ...
    async def put_charge_point_default(
        self, charge_point_id: int, default: NeedDefault | None, at: datetime
    ) -> None: ...
    async def token_defaults(self, team_id: int) -> dict[str, NeedDefault]: ...
    async def put_token_default(
        self, team_id: int, id_tag: str, default: NeedDefault | None, at: datetime
    ) -> None: ...

    async def session_need(self, transaction_id: int) -> SessionNeed | None: ...
    async def put_session_need(
        self, transaction_id: int, need: SessionNeed, at: datetime
    ) -> None: ...


class PlanningUnitOfWork(UnitOfWork, Protocol):
    """The foundation's unit of work with planning's repository on it: a change and its
    audit entry in one transaction."""

    planning: PlanningRepository


class PriceStore(Protocol):
    """The price cache in the database: survives restarts, shared by processes."""

    async def put_prices(self, points: Sequence[PricePoint], source: str, at: datetime) -> None: ...

    async def prices(self, zone: str, start: datetime, end: datetime) -> list[PricePoint]: ...
