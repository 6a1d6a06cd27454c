"""Builds the concrete objects from typed settings. Nothing connects at import time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from amphub.adapters.security.hashing import Argon2Hasher
from amphub.adapters.store.database import create_engine, session_factory
from amphub.adapters.store.uow import SqlUnitOfWork
from amphub.application.auth import AuthService
from amphub.application.ports import Clock, SecretHasher, SystemClock
from amphub.application.tenancy import TenancyService
from amphub.application.uow import UnitOfWork
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

    def unit_of_work(self) -> UnitOfWork:
        return SqlUnitOfWork(self.sessions)

    async def close(self) -> None:
        await self.engine.dispose()


def build(settings: Settings, *, clock: Clock | None = None) -> Container:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    clock = clock or SystemClock()
    hasher = Argon2Hasher(fast=settings.fast_hashing)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(sessions)

    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        hasher=hasher,
        tenancy=TenancyService(uow, clock),
        auth=AuthService(uow, clock, hasher),
    )
