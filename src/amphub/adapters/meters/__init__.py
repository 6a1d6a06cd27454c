"""Meter transports: an MQTT listener and a Modbus TCP poller, both feeding a
``MeterReadingSink`` (the application's ``MeterIngestion``). The HTTP route lives with the
API entry point. Register maps for Modbus meters are data files under ``maps/``."""
