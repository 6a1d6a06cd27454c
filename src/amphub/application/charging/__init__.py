"""Charging: the use cases behind the OCPP gateway (incoming messages, outgoing commands),
their ports, and the live state of connected chargers that the balancer reads.

- :mod:`.service` — ChargingService: admission, boot, transactions, meter values, …
- :mod:`.commands` — CommandService: profiles, remote start/stop, configuration, reset.
- :mod:`.live` — LiveChargerState: per connector status, current, power, energy.
- :mod:`.queries` — read models for the REST API.
- :mod:`.credentials` — charge point passwords (generation, fast salted hash).
- :mod:`.ports`, :mod:`.errors` — what the adapters implement and raise.
"""
