"""HTTP Basic serial:PIN for meters: verification cache and wrong-PIN rate limit."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from amphub.application.metering import MeterAuthenticator, TooManyAttempts

SERIAL = "AMH-AAAA-BBBB-CCCC-DDDD"
PIN = "04718265"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class CountingHasher:
    def __init__(self) -> None:
        self.verifications = 0

    def hash(self, secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def verify(self, secret: str, hashed: str) -> bool:
        self.verifications += 1
        return hmac.compare_digest(self.hash(secret), hashed)


class Pins:
    def __init__(self, hasher: CountingHasher) -> None:
        self.hashes = {SERIAL: hasher.hash(PIN)}

    async def pin_hash(self, serial: str) -> str | None:
        return self.hashes.get(serial)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(hasher: CountingHasher, clock: Clock) -> MeterAuthenticator:
    return MeterAuthenticator(Pins(hasher), hasher, clock=clock, cache_ttl=timedelta(minutes=15))


async def test_right_pin_is_verified_once_then_remembered(
    auth: MeterAuthenticator, hasher: CountingHasher, clock: Clock
) -> None:
    assert await auth.authenticate(SERIAL.lower(), PIN, client="10.0.0.1")
    for _ in range(100):
        assert await auth.authenticate(SERIAL, PIN, client="10.0.0.1")
    assert hasher.verifications == 1
    clock.now += timedelta(minutes=16)  # the memory lapses
    assert await auth.authenticate(SERIAL, PIN)
    assert hasher.verifications == 2


async def test_wrong_pin_is_refused_and_not_helped_by_the_cache(
    auth: MeterAuthenticator, hasher: CountingHasher
) -> None:
    assert await auth.authenticate(SERIAL, PIN)
    assert not await auth.authenticate(SERIAL, "04718266")
    assert hasher.verifications == 2


@pytest.mark.parametrize("pin", ["", "1234567", "abcdefgh", "123456789"])
async def test_malformed_pins_fail_without_hashing(
    auth: MeterAuthenticator, hasher: CountingHasher, pin: str
) -> None:
    assert not await auth.authenticate(SERIAL, pin)
    assert hasher.verifications == 0


async def test_unknown_serial_costs_a_verification_too(
    auth: MeterAuthenticator, hasher: CountingHasher
) -> None:
    assert not await auth.authenticate("AMH-2222-3333-4444-5555", PIN)
    assert hasher.verifications == 1


async def test_wrong_pins_lock_the_serial_out_for_the_window(
    auth: MeterAuthenticator, clock: Clock
) -> None:
    for k in range(5):
        clock.now = T0 + timedelta(seconds=k)
        assert not await auth.authenticate(SERIAL, f"0000000{k}", client=f"10.0.0.{k}")
    with pytest.raises(TooManyAttempts) as raised:
        await auth.authenticate(SERIAL, PIN, client="10.9.9.9")  # even the right PIN
    assert raised.value.retry_after_s == pytest.approx(56.0)
    clock.now = T0 + timedelta(seconds=60)  # the first failure left the window
    assert await auth.authenticate(SERIAL, PIN)


async def test_one_client_guessing_many_serials_is_locked_out(auth: MeterAuthenticator) -> None:
    serials = [
        f"AMH-AAAA-BBBB-CCCC-{suffix}" for suffix in ("EEEE", "FFFF", "GGGG", "HHHH", "JJJJ")
    ]
    for serial in serials:
        assert not await auth.authenticate(serial, PIN, client="203.0.113.7")
    with pytest.raises(TooManyAttempts):
        await auth.authenticate(SERIAL, PIN, client="203.0.113.7")
    assert await auth.authenticate(SERIAL, PIN, client="198.51.100.1")


async def test_forget_after_pin_regeneration(hasher: CountingHasher) -> None:
    pins = Pins(hasher)
    auth = MeterAuthenticator(pins, hasher)
    assert await auth.authenticate(SERIAL, PIN)
    pins.hashes[SERIAL] = hasher.hash("11112222")
    auth.forget(SERIAL)
    assert not await auth.authenticate(SERIAL, PIN)
    assert await auth.authenticate(SERIAL, "11112222")


async def test_a_hasher_error_reads_as_wrong(clock: Clock) -> None:
    class Broken(CountingHasher):
        def verify(self, secret: str, hashed: str) -> bool:
            raise ValueError("corrupt hash")

    hasher = Broken()
    assert not await MeterAuthenticator(Pins(hasher), hasher, clock=clock).authenticate(SERIAL, PIN)
