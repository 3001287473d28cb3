"""B9: an incremental run's requests against the companies that changed plus a fixed few.

The database holds every company's filing cursor, checked through three days ago (the
state a daily run leaves). EDGAR's daily index, served for the days since, lists a new
10-Q for 1% of the companies among other filings (8-Ks of members, 10-Qs of companies
outside the universe). The measured call is the ``sec`` source's ``financials`` for every
company with the cursors in the database; the baseline is what it has to request: the
changed companies' companyfacts and one index per business day.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import sqlalchemy as sa

from bench.config import Profile
from bench.live_sec import ciks, live_settings, local_sec
from bench.measure import Figure, Goal, Sample, timed
from etl_service.src.adapters.archive import RawArchive
from etl_service.src.adapters.http import build_http_client
from etl_service.src.adapters.registry import SourceContext
from etl_service.src.adapters.sec.daily_index import business_days, index_url
from etl_service.src.adapters.sec.source import SecCompanyFactsSource
from etl_service.src.db import migrate
from etl_service.src.db.engine import connected_engine
from etl_service.src.db.filing_cursors import DatabaseFilingState
from etl_service.src.db.tables import TABLES
from etl_service.tests.support.replay_server import Reply

INDEX_HEADER = (
    "Description:           Daily Index of EDGAR Dissemination Feed by Company Name\n\n"
    "CIK|Company Name|Form Type|Date Filed|File Name\n" + "-" * 80 + "\n"
)


def _index(lines: list[tuple[str, str]], day: str) -> bytes:
    rows = [
        f"{int(c)}|FILER {c}|{form}|{day}|edgar/data/{int(c)}/{c}-24-{i:06d}.txt"
        for i, (c, form) in enumerate(lines)
    ]
    return (INDEX_HEADER + "\n".join(rows) + "\n").encode("latin-1")


def run(profile: Profile) -> Figure:
    """Measure B9 on ``profile.b9_companies`` companies, 1% of them changed."""
    companies = ciks(profile.b9_companies)
    changed = companies[::100] if len(companies) >= 100 else companies[:1]
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    checked = yesterday - timedelta(days=3)
    days = list(business_days(checked + timedelta(days=1), yesterday))
    counts: list[float] = []
    seconds: list[float] = []
    with local_sec(changed) as server, tempfile.TemporaryDirectory(prefix="etl-b9-") as tmp:
        database = connected_engine(f"sqlite:///{Path(tmp) / 'etl.db'}")
        migrate.upgrade(database)
        with database.begin() as conn:
            conn.execute(
                sa.insert(TABLES["filing_cursors"]),
                [
                    {
                        "cik": c,
                        "accession": None,
                        "filed": None,
                        "checked_through": checked,
                        "run_id": "previous",
                    }
                    for c in companies
                ],
            )
        others = [(c, "8-K") for c in companies[1::7]] + [
            (f"{9_000_000 + i:010d}", "10-Q") for i in range(300)
        ]
        for number, day in enumerate(days):
            lines = [*others, *((c, "10-Q") for c in changed)] if number == 0 else others
            path = index_url(server.url("/daily-index"), day).removeprefix(server.base_url)
            server.script(path, Reply(200, _index(lines, f"{day:%Y%m%d}")))
        for run_number in range(profile.runs):
            workdir = Path(tmp) / str(run_number)
            settings = live_settings(server, workdir)
            server.requests.clear()
            state = DatabaseFilingState(database, f"bench-{run_number}")  # never saved
            with build_http_client() as client:
                context = SourceContext(
                    settings, client, RawArchive(str(workdir / "raw")), filing_state=state
                )
                source = SecCompanyFactsSource(context)
                seconds.append(timed(partial(source.financials, companies, {})))
            counts.append(float(len(server.requests)))
    needed = len(changed) + len(days)
    measured = Sample("requests of the incremental run", "requests", counts)
    baseline = Sample(
        "changed companies + daily indexes", "requests", [float(needed)] * len(counts)
    )
    return Figure(
        id="B9",
        title="Incremental run: requests against changes",
        workload=(
            f"{len(companies)} companies with cursors, {len(changed)} with a new 10-Q, "
            f"{len(days)} business days of daily index since the cursors"
        ),
        measured=measured,
        baseline=baseline,
        ratio=measured.median / needed,
        ratio_means="requests made / (changed companies + one daily index per business day)",
        goal=Goal("<=", 1.1),
        details={
            "companies": len(companies),
            "changed": len(changed),
            "index_days": len(days),
            "seconds": seconds,
        },
        notes=[
            "The cursors are written straight into the database (the state a daily run "
            "leaves) rather than by a first full run, which would take 50 s at 10/s.",
            f"A full run of the same universe makes {len(companies)} requests "
            f"({len(companies) / needed:.0f}x as many).",
        ],
    )
