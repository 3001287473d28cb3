"""A local SEC for B7 and B9: companyfacts and daily index over a rate-limited replay server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.companyfacts import companyfacts_document
from etl_service.settings import HttpSettings, SecSettings, Settings, SourceMode
from etl_service.tests.support.replay_server import ReplayServer, Reply, replay_server

LIMIT = 10.0
"""SEC's fair-access limit, enforced by the server and kept by the client's limiter."""
LATENCY_S = 0.05
DISTINCT_BODIES = 8
"""Companies share this many generated documents (generating 500 would take minutes)."""


def facts_path(cik: str) -> str:
    return f"/api/xbrl/companyfacts/CIK{cik}.json"


def ciks(n: int) -> list[str]:
    return [f"{1_000 + i:010d}" for i in range(n)]


@contextmanager
def local_sec(companies: list[str], bodies: int = DISTINCT_BODIES) -> Iterator[ReplayServer]:
    """A server answering companyfacts of ``companies`` (real-shaped documents, ~3.7 MB)
    at 50 ms latency, refusing requests over 10 a second with 429 and Retry-After."""
    documents = [
        json.dumps(companyfacts_document(int(c)), separators=(",", ":")).encode()
        for c in companies[:bodies]
    ]
    with replay_server(latency_s=LATENCY_S, max_requests_per_s=LIMIT) as server:
        for index, cik in enumerate(companies):
            server.script(facts_path(cik), Reply(200, documents[index % len(documents)]))
        yield server


def live_settings(server: ReplayServer, workdir: Path) -> Settings:
    """Live-source settings pointing SEC at ``server``, with stores under ``workdir``."""
    return Settings(
        data_dir=workdir,
        source=SourceMode.LIVE,
        sec_user_agent="etl-service bench bench@example.com",
        sec=SecSettings(
            base_url=server.base_url,
            daily_index_url=server.url("/daily-index"),
            max_requests_per_s=LIMIT,
        ),
        http=HttpSettings(cache_dir=workdir / "cache"),
    )
