"""The OCPP gateway: chargers speaking 1.6J or 2.0.1 over WebSockets.

- :mod:`.server` — OcppGateway (handshake, connections, lifecycle) and OcppServerConfig.
- :mod:`.connection` — one charger's socket: ordered incoming CALLs, one outgoing CALL
  in flight with a timeout.
- :mod:`.rpc`, :mod:`.schemas` — OCPP-J frames and the official schemas, with each
  version's error codes.
- :mod:`.v16`, :mod:`.v201` — incoming messages; :mod:`.v16_commands`,
  :mod:`.v201_commands` — outgoing calls; :mod:`.commander` — the ChargerCommander port.
"""
