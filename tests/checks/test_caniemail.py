"""`digest import-caniemail`: caniemail's api/data.json (here a small file of our own in its
format) becomes our support table in the data folder, which the check then prefers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from digest.checks.caniemail import convert
from digest.checks.support_table import IMPORTED, PACKAGED, load_table
from digest.cli.app import app
from digest.settings import Settings

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "caniemail-mini.json"


def said(output: str) -> str:
    return " ".join(output.split())


def test_each_platform_counts_with_its_latest_result() -> None:
    table = convert(json.loads(FIXTURE.read_text()), read=date(2026, 12, 1), origin="mini")
    grid = table["features"]["css-display-grid"]
    assert grid["support"] == {
        "gmail": "partial",  # webmail and Android yes now, iOS partial
        "outlook-windows": "yes",  # 2019 is later than 2016
        "outlook-new": "yes",
        "apple-mail": "yes",
        "yahoo": "yes",
    }
    assert grid["notes"] == {"gmail": "iOS: partial (Not supported with non Google accounts.)"}
    made_up = table["features"]["css-made-up-feature"]["support"]
    assert made_up["gmail"] == "unknown" and made_up["yahoo"] == "no"
    assert made_up["outlook-windows"] == "unknown"  # no data for the family at all
    assert table["source"] == {"name": "caniemail", "url": "https://www.caniemail.com",
                               "licence": "MIT", "data_updated": "2026-05-01 10:00:00 +0000",
                               "read": "2026-12-01", "from": "mini"}


def test_the_packaged_table_is_ours_and_credits_caniemail() -> None:
    table = json.loads(PACKAGED.read_text())
    assert table["source"]["name"] == "caniemail" and table["source"]["licence"] == "MIT"
    assert table["source"]["read"]
    credits = (PACKAGED.parent / "CREDITS.md").read_text()
    assert "MIT" in credits and "Rémi Parmentier" in credits
    for slug, feature in table["features"].items():
        assert set(feature["support"]) == {"gmail", "outlook-windows", "outlook-new",
                                           "apple-mail", "yahoo"}, slug
        assert feature["impact"] in {"layout", "cosmetic", "none"}, slug
        assert feature["impact"] == "none" or feature.get("degrades"), slug


def test_the_command_writes_the_data_folder_and_the_check_prefers_it(settings: Settings):
    done = CliRunner().invoke(app, ["import-caniemail", str(FIXTURE)])
    assert done.exit_code == 0, done.output
    target = settings.data_dir / IMPORTED
    assert target.is_file() and "2 features" in said(done.output)
    table = load_table(settings.data_dir)
    assert table.path == str(target)
    grid = table.features["css-display-grid"]
    assert grid.support["outlook-windows"] == "yes"  # the imported fact...
    assert grid.impact == "layout" and grid.degrades  # ...with our notes kept
    assert "css-border-radius" in table.features  # ours fill what the import lacks


def test_a_file_that_is_not_caniemail_s_is_refused_clearly(tmp_path: Path,
                                                           settings: Settings) -> None:
    wrong = tmp_path / "data.json"
    wrong.write_text('{"features": []}')
    done = CliRunner().invoke(app, ["import-caniemail", str(wrong)])
    assert done.exit_code == 1 and "not caniemail's api/data.json" in said(done.output)
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [')
    done = CliRunner().invoke(app, ["import-caniemail", str(broken)])
    assert done.exit_code == 1 and "broken.json:1: not valid JSON" in said(done.output)
    assert not (settings.data_dir / IMPORTED).exists()
