"""The handshake: refusals before the upgrade (404, 401, 400, 429) with nothing stored,
the subprotocol chosen by the charger and echoed, HTTP Basic with the generated password."""

from __future__ import annotations

import pytest
import websockets
from sqlalchemy import func, select
from websockets.exceptions import InvalidStatus

from amphub.adapters.store.charging_tables import ChargePointStateRow
from amphub.adapters.store.tables import ChargePointRow
from amphub.adapters.store.uow import SqlUnitOfWork
from amphub.application.access import Actor
from amphub.application.charging.credentials import (
    ChargePointPasswordHasher,
    set_charge_point_password,
)
from amphub.application.ports import SystemClock
from amphub.application.tenancy import TenancyService

from .chargers import basic
from .conftest import Harness


async def refused(url: str, headers: dict[str, str], subprotocols: list[str]) -> int:
    with pytest.raises(InvalidStatus) as caught:
        async with websockets.connect(
            url,
            subprotocols=subprotocols,
            additional_headers=headers,
            open_timeout=5,  # type: ignore[arg-type]
        ):
            pass
    return caught.value.response.status_code


async def rows(harness: Harness) -> tuple[int, int]:
    async with harness.engine.connect() as connection:
        points = await connection.scalar(select(func.count()).select_from(ChargePointRow))
        states = await connection.scalar(select(func.count()).select_from(ChargePointStateRow))
    return int(points or 0), int(states or 0)


async def test_refusals_happen_before_the_upgrade_and_store_nothing(harness: Harness) -> None:
    _, password = await harness.add_charge_point("CP-1")
    url = harness.url("CP-1")
    v16 = ["ocpp1.6"]
    assert await refused(harness.url("CP-2"), basic("CP-2", password), v16) == 404
    assert await refused(url, basic("CP-1", "wrong-password-123456"), v16) == 401
    assert await refused(url, basic("CP-2", password), v16) == 401
    assert await refused(url, {}, v16) == 401
    assert await refused(url, {"Authorization": "Basic !!!"}, v16) == 401
    assert await refused(url, basic("CP-1", password), []) == 400
    assert await refused(url, basic("CP-1", password), ["ocpp2.1", "wamp"]) == 400
    base = url.rsplit("/ocpp/", 1)[0]
    assert await refused(f"{base}/other/CP-1", basic("CP-1", password), v16) == 404
    assert await refused(f"{base}/ocpp/", basic("CP-1", password), v16) == 404
    assert await rows(harness) == (1, 0)


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp2.0.1", "ocpp1.6"], "ocpp2.0.1"),
        (["ocpp1.6", "ocpp2.0.1"], "ocpp1.6"),
        (["wamp", "ocpp1.6"], "ocpp1.6"),
    ],
)
async def test_the_chargers_first_supported_subprotocol_is_echoed(
    harness: Harness, offered: list[str], chosen: str
) -> None:
    _, password = await harness.add_charge_point("CP-1")
    async with websockets.connect(
        harness.url("CP-1"),
        subprotocols=offered,
        additional_headers=basic("CP-1", password),  # type: ignore[arg-type]
    ) as connection:
        assert connection.subprotocol == chosen
        assert connection.response is not None
        assert connection.response.headers["Sec-WebSocket-Protocol"] == chosen


@pytest.mark.ocpp_options(settings={"handshake_failures_allowed": 3})
async def test_refusals_are_rate_limited_per_source_address(harness: Harness) -> None:
    _, password = await harness.add_charge_point("CP-1")
    url = harness.url("CP-1")
    for _ in range(3):
        assert await refused(url, basic("CP-1", "nope-nope-nope-nope"), ["ocpp1.6"]) == 401
    with pytest.raises(InvalidStatus) as caught:
        async with websockets.connect(
            url,
            subprotocols=["ocpp1.6"],
            additional_headers=basic("CP-1", password),  # type: ignore[list-item]
        ):
            pass
    assert caught.value.response.status_code == 429
    assert int(caught.value.response.headers["Retry-After"]) >= 1


async def test_a_401_asks_for_basic_credentials(harness: Harness) -> None:
    await harness.add_charge_point("CP-1")
    with pytest.raises(InvalidStatus) as caught:
        async with websockets.connect(harness.url("CP-1"), subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
            pass
    assert caught.value.response.headers["WWW-Authenticate"].startswith("Basic realm=")


async def test_a_new_password_replaces_the_old_one(harness: Harness) -> None:
    _, old = await harness.add_charge_point("CP-1")
    tenancy = TenancyService(lambda: SqlUnitOfWork(harness.sessions), SystemClock())
    new = await set_charge_point_password(
        tenancy, harness.current.store, ChargePointPasswordHasher(), Actor.system(), "CP-1"
    )
    assert new != old
    assert await refused(harness.url("CP-1"), basic("CP-1", old), ["ocpp1.6"]) == 401
    async with websockets.connect(
        harness.url("CP-1"),
        subprotocols=["ocpp1.6"],
        additional_headers=basic("CP-1", new),  # type: ignore[list-item]
    ) as connection:
        assert connection.subprotocol == "ocpp1.6"
