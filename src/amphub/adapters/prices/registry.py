"""The price providers by name: an explicit map, nothing registers itself on import."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx

from amphub.adapters.prices.csv_file import CsvPriceProvider
from amphub.adapters.prices.energi_data_service import EnergiDataServiceProvider
from amphub.adapters.prices.entsoe import EntsoeProvider
from amphub.adapters.prices.nordpool import NordPoolProvider
from amphub.application.planning.ports import PriceProvider


def price_providers(
    client: httpx.AsyncClient | None = None,
    *,
    entsoe_token: str = "",
    csv_paths: tuple[Path, ...] = (),
    online: bool = True,
) -> Mapping[str, PriceProvider]:
    """The price sources by name. ``online=False`` keeps only local files (tests, sites
    without internet access)."""
    providers: dict[str, PriceProvider] = {}
    if online:
        providers["energi_data_service"] = EnergiDataServiceProvider(client)
        providers["nordpool"] = NordPoolProvider(client)
        providers["entsoe"] = EntsoeProvider(entsoe_token, client)
    if csv_paths:
        providers["csv"] = CsvPriceProvider(*csv_paths)
    return providers
