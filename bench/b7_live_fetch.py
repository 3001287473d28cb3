"""B7: the live companyfacts fetch's request rate against SEC's limit of 10 a second.

The measured call is the ``sec`` source's ``financials`` for every company (the probe,
then concurrent requests under the process-wide limiter, each body extracted) against a
local server that answers after 50 ms and refuses requests over 10 a second with 429 and
``Retry-After``. The baseline is the limit itself: a run bound by it reaches ratio 1.
"""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from bench.config import Profile
from bench.live_sec import LATENCY_S, LIMIT, ciks, live_settings, local_sec
from bench.measure import Comparison, Figure, Goal, Sample, timed
from etl_service.settings import Settings
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import build_http_client
from etl_service.src.adapters.registry import SourceContext
from etl_service.src.adapters.sec.client import CompanyFactsClient, build_sec_fetcher
from etl_service.src.adapters.sec.source import SecCompanyFactsSource


def _fetch(source: SecCompanyFactsSource, companies: list[str], rows: list[int]) -> None:
    rows.append(source.financials(companies, {}).table.num_rows)


def _fetch_only(settings: Settings, companies: list[str]) -> None:
    """The same requests through the same fetcher and limiter, bodies not extracted."""
    with build_http_client() as client:
        fetcher = build_sec_fetcher(client, settings.http, settings.sec_user_agent, LIMIT)
        facts = CompanyFactsClient(fetcher, settings.sec.base_url)
        with ThreadPoolExecutor(settings.sec.max_concurrency) as pool:
            for _ in pool.map(facts.get, companies):
                pass


def run(profile: Profile) -> Figure:
    """Measure B7 on ``profile.b7_companies`` companies."""
    companies = ciks(profile.b7_companies)
    seconds: list[float] = []
    fetch_only: list[float] = []
    rows = requests = refused = 0
    with local_sec(companies) as server, tempfile.TemporaryDirectory(prefix="etl-b7-") as tmp:
        for index in range(profile.runs):
            workdir = Path(tmp) / str(index)  # an empty HTTP cache each time
            settings = live_settings(server, workdir)
            server.requests.clear()
            with build_http_client() as client:
                context = SourceContext(settings, client, RawArchive(str(workdir / "raw")))
                source = SecCompanyFactsSource(context)
                holder: list[int] = []
                seconds.append(timed(partial(_fetch, source, companies, holder)))
            rows, requests, refused = holder[0], len(server.requests), server.refused
            shutil.rmtree(workdir, ignore_errors=True)
            fetch_only.append(timed(partial(_fetch_only, settings, companies)))
            shutil.rmtree(workdir, ignore_errors=True)
    n = len(companies)
    measured = Sample("sec source, concurrent", "requests/s", [n / s for s in seconds])
    baseline = Sample("SEC's limit", "requests/s", [LIMIT] * len(seconds))
    network = Sample(
        "the same requests, bodies not extracted", "requests/s", [n / s for s in fetch_only]
    )
    figure = Figure(
        id="B7",
        title="Live companyfacts fetch at SEC's rate limit",
        workload=(
            f"{n} companies, real-shaped companyfacts (~3.7 MB each), {LATENCY_S * 1000:.0f} ms "
            f"latency, {LIMIT:g} requests/s enforced by the server"
        ),
        measured=measured,
        baseline=baseline,
        ratio=measured.median / LIMIT,
        ratio_means="companies fetched and extracted per second / the 10 requests/s limit",
        goal=Goal(">=", 0.9),
        comparisons=[
            Comparison(
                network,
                network.median / LIMIT,
                "the fetch alone: what the network side reaches under the limiter",
            )
        ],
        details={
            "companies": n,
            "quarterly_rows": rows,
            "requests_last_run": requests,
            "refused_429_last_run": refused,
        },
        notes=[
            "Server and client share one process (and its GIL), as the 2-core machine has "
            "no spare core for a separate server.",
        ],
    )
    if figure.met is False:
        figure.reason_unmet = (
            "The fetch alone reaches the limit (the comparison); extraction is the bound: "
            "json.loads and the quarterly rules of a ~3.7 MB document take about 75 ms of one "
            "core at B5's 50 MB/s, more on this shared machine, and run under the GIL with the "
            "fetch threads and the in-process server. Meeting the goal takes extracting in a "
            "process pool (2 cores here), or a parser that skips the concepts not read (B5's "
            "note), so a company costs well under the 100 ms of its request slot. orjson was "
            "tried: it parses in about 60% of json's time, but reads integers over 64 bits as "
            "floats, and the scan that sends such documents to json costs what it saves."
        )
    return figure
