"""What the editor sees, in a real headless Chromium against a real `digest preview` process."""

from __future__ import annotations

from typing import Any

from digest.send.tokens import verify_token


def newsletter_url(server: Any, facts: Any) -> str:
    return f"{server.url}/preview/{facts.week}/{facts.slug}"


def frame_document(page: Any, frame_id: str) -> Any:
    handle = page.wait_for_selector(f"#{frame_id}")
    frame = handle.content_frame()
    frame.wait_for_load_state()
    return frame


def test_the_index_lists_the_built_edition_newest_first(page, server, facts, shoot) -> None:
    page.goto(server.url + "/")
    edition = page.locator(f"#edition-{facts.week}")
    assert edition.is_visible()
    row = edition.locator("tbody tr").first
    assert "AI Policy Weekly" in row.inner_text()
    cells = row.locator("td").all_inner_texts()
    assert cells[1].strip() == "draft"  # built, not sent
    assert cells[3].strip() == "2"  # articles picked
    assert cells[4].strip().endswith("KB")
    shoot(page, "index", full_page=True)


def test_the_newsletter_page_shows_the_email_at_desktop_and_phone_width(
    page, server, offline, facts, shoot
) -> None:
    page.goto(newsletter_url(server, facts))
    desktop = frame_document(page, "frame-desktop")
    phone = frame_document(page, "frame-phone")
    for frame in (desktop, phone):
        assert facts.headline in frame.locator("body").inner_text()
        # Placeholders are filled with the first subscriber on the list.
        assert "Hello Ada Reader," in frame.locator("body").inner_text()
        assert "%%" not in frame.content()

    # The sandbox allows no scripts in the email.
    sandbox = page.get_attribute("#frame-phone", "sandbox")
    assert sandbox is not None and "allow-scripts" not in sandbox

    width = phone.evaluate("document.documentElement.clientWidth")
    assert width == 375
    overflow = phone.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth]"
    )
    assert max(overflow) <= 375, f"the email scrolls sideways on a phone: {overflow}"
    images = phone.evaluate(
        "Array.from(document.images).map(i => [i.src, i.getAttribute('alt')])"
    )
    assert all(alt is not None for _, alt in images), images

    page.wait_for_function("() => document.querySelector('#frame-phone').offsetHeight > 600")
    shoot(page, "newsletter-both-widths", full_page=True)
    page.click("button[data-width=desktop]")
    shoot(page, "newsletter-desktop", full_page=True)
    page.click("button[data-width=phone]")
    shoot(page, "newsletter-phone", full_page=True)
    page.check("#dark-toggle")
    page.wait_for_function(
        "() => document.querySelector('#frame-phone').getAttribute('src').endsWith('dark=1')"
    )
    frame_document(page, "frame-phone")
    shoot(page, "newsletter-phone-dark", full_page=True)
    page.uncheck("#dark-toggle")
    page.click("button[data-width=both]")
    assert offline.blocked == [], f"the preview reached out to the internet: {offline.blocked}"


def test_the_text_tab_shows_the_plain_text_part(page, server, site, facts, shoot) -> None:
    page.goto(newsletter_url(server, facts))
    page.click("[data-tab=text]")
    shown = page.locator("#plain-text")
    assert shown.is_visible()
    expected = (site.out_dir / facts.week / facts.slug / "email.txt").read_text()
    text = shown.inner_text()
    assert facts.headline in text
    assert expected.splitlines()[0].strip() in text
    assert "%%unsubscribe_url%%" in expected and "%%" not in text
    assert not page.locator("#frame-desktop").is_visible()
    shoot(page, "text-tab", full_page=True)


def test_the_headers_are_those_the_sample_reader_gets(page, server, site, facts, shoot) -> None:
    page.goto(newsletter_url(server, facts) + "#headers")
    table = page.locator("#headers table")
    headers = dict(zip(table.locator("th").all_inner_texts(),
                       table.locator("td").all_inner_texts(), strict=True))
    assert headers["From"] == "Regwire AI Policy <newsletters@regwire.example>"
    assert headers["Reply-To"] == "editors@regwire.example"
    assert headers["To"] == "Ada Reader <ada.reader@example.com>"
    assert headers["Subject"].startswith("AI Policy Weekly:")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = headers["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"{site.base_url}/u/")
    assert verify_token(site, link.rsplit("/", 1)[1]) == ("ada.reader@example.com", facts.slug)
    shoot(page, "headers-tab", full_page=True)


def test_the_selection_panel_says_why_for_every_article(page, server, facts, shoot) -> None:
    page.goto(newsletter_url(server, facts))
    page.click("[data-tab=selection]")
    picked = page.locator("table.picked tbody tr")
    assert picked.count() == 2
    row = picked.filter(has_text=facts.headline)
    assert "standfirst" in row.locator(".method").inner_text().lower()  # how it was summarised
    assert "matched" in row.locator("td").nth(2).inner_text()  # why it was picked
    untagged = picked.filter(has_text=facts.untagged)
    # The article that came without tags was picked on an inferred tag, and says so.
    assert untagged.locator(".tag.inferred").count() == 1
    assert untagged.locator(".method").inner_text().lower() == "extractive"
    left_out = page.locator("table.left-out tbody tr", has_text=facts.left_out)
    assert left_out.count() == 1
    reason = left_out.locator("td").nth(1).inner_text().strip()
    assert reason, "a left-out article must say why"
    shoot(page, "selection-tab", full_page=True)


def test_a_missing_edition_is_a_404_with_a_way_back(page, server, facts, shoot) -> None:
    response = page.goto(f"{server.url}/preview/2001-W01")
    assert response is not None and response.status == 404
    assert "no built edition" in page.locator("main").inner_text()
    page.click("text=Back to all editions")
    assert page.locator(f"#edition-{facts.week}").is_visible()
    response = page.goto(f"{server.url}/preview/{facts.week}/no-such-letter")
    assert response is not None and response.status == 404
    assert page.locator(f"a[href='/preview/{facts.week}']").count() == 1


def test_names_that_are_not_edition_names_never_reach_the_file_system(server, site) -> None:
    import httpx

    (site.out_dir.parent / "secret.txt").write_text("not for the browser")
    for path in ("/preview/..%2Fsecret.txt", "/preview/%2E%2E/secret.txt/email.html",
                 "/preview/2026-W47/..%2F..%2Fsecret.txt/email.txt"):
        response = httpx.get(server.url + path)
        assert response.status_code == 404, path
        assert "not for the browser" not in response.text
