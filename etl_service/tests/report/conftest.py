"""The report of the session's snapshot run, written once for the report tests."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from etl_service.cli import main
from etl_service.settings import Settings


@pytest.fixture(scope="session")
def report_dir(loaded: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``etl-service report --out DIR`` on the snapshot run's database."""
    out = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ETL_DATABASE_URL", loaded.database_url_value)
        assert main(["report", "--out", str(out)]) == 0
    return out


def assert_not_blank(png: bytes, what: str) -> None:
    """A picture with something drawn: varied grey levels and many colours, not one fill."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width >= 300, what
    assert image.height >= 150, what
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 10, what
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20, what
