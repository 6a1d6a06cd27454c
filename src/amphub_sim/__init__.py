"""amphub's simulator: charge points, cars, a building and its meter, speaking only the wire
protocols (OCPP over WebSockets, HTTP, MQTT, Modbus TCP) — exactly like real devices, so
that the demo, the end-to-end tests and the benchmarks exercise the real system.

It never imports amphub's application, adapters or bootstrap; it shares only pure values
from ``amphub.domain`` (phase currents and rotations). See README.md and docs/simulator.md.
"""
