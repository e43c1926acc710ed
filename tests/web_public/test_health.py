"""GET /healthz for the reverse proxy: ok while the database answers, 503 when it does not."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy.engine import make_url

from digest.archive import connect


def test_healthz_is_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_503_when_the_database_is_gone(public_settings, tmp_path, in_process):
    url = f"sqlite:///{tmp_path / 'doomed' / 'archive.db'}"
    client = in_process(public_settings.model_copy(update={"database_url": url}))
    assert client.get("/healthz").status_code == 200
    database = Path(make_url(url).database)
    shutil.rmtree(database.parent)
    database.mkdir(parents=True)  # a folder where the file was: SQLite cannot open it
    connect(url).dispose()

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
