"""A thin FMP JSON client over the shared HttpFetcher; the API key never reaches a log."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from etl_service.errors import ConfigError, SourceRefusedError
from etl_service.src.adapters.files import parse_json
from etl_service.src.adapters.http import HttpFetcher


class FmpClient:
    """GET FMP endpoints as JSON, adding the API key as a query parameter."""

    def __init__(self, fetcher: HttpFetcher, api_key: SecretStr | None, base_url: str) -> None:
        if api_key is None or not api_key.get_secret_value():
            raise ConfigError("FMP needs an API key: set ETL_FMP_API_KEY")
        self._fetcher = fetcher
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")

    def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET ``path`` (e.g. ``stable/income-statement``) and decode the JSON body."""
        url = f"{self._base_url}/{path.lstrip('/')}"
        query = {**(params or {}), "apikey": self._api_key.get_secret_value()}
        payload = parse_json(self._fetcher.get(url, params=query).body, url)
        if isinstance(payload, dict) and "Error Message" in payload:
            raise SourceRefusedError(f"{url}: FMP refused the request: {payload['Error Message']}")
        return payload
