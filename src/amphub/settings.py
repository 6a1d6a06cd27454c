"""One typed settings object: `AMPHUB_*` environment variables over an optional TOML file.

The file is named by `AMPHUB_CONFIG` (or the CLI's `--config`); environment variables win
over it. Secrets have no defaults outside demo mode.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/amphub.sqlite3"
DEMO_SECRET = "demo-only-secret-do-not-use-in-production"  # noqa: S105 - refused outside demo


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AMPHUB_", extra="forbid")

    database_url: str = DEFAULT_DATABASE_URL
    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=0, le=65535)
    ocpp_host: str = "127.0.0.1"
    ocpp_port: int = Field(9000, ge=0, le=65535)
    ocpp_max_frame_bytes: int = Field(
        64 * 1024,
        ge=4096,
        le=16 * 1024 * 1024,
        description="OCPP frames above this close the socket with 1009 (message too big)",
    )
    ocpp_ping_interval_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="WebSocket ping interval; a charger that does not answer within it is "
        "dropped (half-open sockets go within two intervals); 0 turns pings off",
    )
    ocpp_call_timeout_s: float = Field(
        30.0, gt=0, le=600, description="how long a command waits for the charger's reply"
    )
    ssl_cert: Path | None = None
    ssl_key: Path | None = None
    secret_key: SecretStr | None = None
    demo: bool = False
    fast_hashing: bool = Field(
        False, description="cheap argon2 parameters; for tests and the demo only"
    )
    allow_unknown_chargers: bool = Field(
        False,
        description=(
            "development switch: accept unknown OCPP identities as Pending; never in production"
        ),
    )
    mqtt_host: str | None = Field(
        None, description="broker meters publish to; unset: no MQTT meter ingestion"
    )
    mqtt_port: int = Field(1883, ge=1, le=65535)
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_tls: bool = False
    modbus_maps_dir: Path | None = Field(
        None, description="folder of extra Modbus register maps (NAME.yaml), beside the shipped"
    )
    balancing_cycle_s: float = Field(
        5.0, ge=0.2, le=60, description="a group's controller runs at least this often"
    )
    balancing_lapse_s: float = Field(
        300.0,
        ge=5,
        le=3600,
        description="dynamic limits lapse after this long unless renewed; a charger that "
        "loses amphub falls back to its fail-safe share by then",
    )
    fetch_prices: bool = Field(
        True,
        description="fetch day-ahead prices from the public sources (Energi Data "
        "Service, Nord Pool, ENTSO-E); off: only the CSV files below",
    )
    entsoe_token: SecretStr | None = None
    price_csv: list[Path] = Field(
        default_factory=list,
        description="CSV files of day-ahead prices (docs/adaptive-charging.md)",
    )
    log_level: str = "INFO"
    max_body_bytes: int = Field(1_048_576, ge=1024)

    @model_validator(mode="after")
    def _secrets_outside_demo(self) -> Settings:
        if self.secret_key is None:
            if not self.demo:
                raise ValueError(
                    "AMPHUB_SECRET_KEY is required (at least 32 characters) unless AMPHUB_DEMO=1"
                )
            self.secret_key = SecretStr(DEMO_SECRET)
        elif not self.demo and (
            len(self.secret_key.get_secret_value()) < 32
            or self.secret_key.get_secret_value() == DEMO_SECRET
        ):
            raise ValueError(
                "AMPHUB_SECRET_KEY must be at least 32 characters and not the demo one"
            )
        if (self.ssl_cert is None) != (self.ssl_key is None):
            raise ValueError("give both ssl_cert and ssl_key, or neither")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))


_config_file: ContextVar[Path | None] = ContextVar("amphub_config_file", default=None)


class _TomlSource(PydanticBaseSettingsSource):
    """Values from the TOML file given to :func:`load_settings` or named by AMPHUB_CONFIG,
    top-level keys as field names."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values().get(field_name), field_name, False

    def _values(self) -> dict[str, Any]:
        path = _config_file.get() or os.environ.get("AMPHUB_CONFIG")
        if not path:
            return {}
        with Path(path).open("rb") as handle:
            return tomllib.load(handle)

    def __call__(self) -> dict[str, Any]:
        return self._values()


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Settings from (lowest first) the TOML file, AMPHUB_* variables, then ``overrides``."""
    token = _config_file.set(config)
    try:
        return Settings(**overrides)
    finally:
        _config_file.reset(token)
