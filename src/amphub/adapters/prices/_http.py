"""One GET with a timeout and a size cap; every failure becomes PriceUnavailable."""

from __future__ import annotations

from typing import Any

import httpx

from amphub.application.planning.ports import PriceUnavailable

MAX_RESPONSE_BYTES = 8 * 1024 * 1024
TIMEOUT_S = 20.0


async def get(
    client: httpx.AsyncClient | None, url: str, params: dict[str, Any], source: str
) -> httpx.Response | None:
    """The response, or None for 204 No Content (nothing published yet)."""
    try:
        if client is None:
            async with httpx.AsyncClient(timeout=TIMEOUT_S) as own:
                response = await own.get(url, params=params)
        else:
            response = await client.get(url, params=params, timeout=TIMEOUT_S)
    except httpx.HTTPError as error:
        raise PriceUnavailable(f"{source}: {error.__class__.__name__}: {error}") from error
    if response.status_code == 204:
        return None
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise PriceUnavailable(f"{source}: answer larger than {MAX_RESPONSE_BYTES} bytes")
    return response
