"""The Checks tab, in a real Chromium against a real `digest preview`: the build's quick checks
with a count badge, then the button that runs Chromium's and SpamAssassin's checks too."""

from __future__ import annotations

import json
import shutil
from typing import Any


def test_the_checks_tab_shows_the_findings_and_runs_the_rest(page, server, site, facts,
                                                             shoot) -> None:
    page.goto(server.url + "/")
    badge = page.locator(f"#edition-{facts.week} td.checks a")
    assert badge.inner_text() == "1 warning"
    badge.click()
    page.wait_for_url(f"**/preview/{facts.week}/{facts.slug}#checks")
    tab = page.locator('[data-tab="checks"]')
    # The fixture runs on the default (local) base URL: one warning, no errors.
    assert tab.locator("#checks-badge").inner_text() == "1 warning"
    panel = page.locator("#checks")
    assert panel.is_visible()
    finding = panel.locator('[data-check="links.base-url"]')
    assert "http://127.0.0.1:8000" in finding.inner_text()
    assert "What to do:" in finding.inner_text()
    assert "The browser and SpamAssassin checks have not run" in panel.inner_text()
    panel.locator("details.how summary").click()
    assert "With the outbox backend" in panel.locator("details.how").inner_text()
    shoot(page, "checks-tab", full_page=True)

    if not (shutil.which("chromium") and shutil.which("spamassassin")):
        return  # the button needs both (CI installs them)
    with page.expect_navigation(timeout=120_000):
        page.locator("#run-checks").click(no_wait_after=True)  # the checks take seconds
    page.wait_for_selector("#checks", state="visible")
    ran = page.locator("#checks-ran").inner_text()
    assert "browser" in ran and "SpamAssassin" in ran
    assert "spam score" in page.locator("#checks .checks-summary").inner_text()
    manifest: dict[str, Any] = json.loads(
        (site.out_dir / facts.week / facts.slug / "manifest.json").read_text())
    assert manifest["checks"]["ran"] == ["static", "browser", "spam"]
    assert manifest["checks"]["counts"]["error"] == 0
    shoot(page, "checks-tab-all", full_page=True)
