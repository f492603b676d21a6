"""End to end in a real browser: Playwright driving Debian's Chromium against uvicorn.

The journey of issue 7: sign in → open a demo patient → enter a flow MRD result and see
its status → plan a blinatumomab cycle and see the calendar → grade a CRS event → open
the cohort dashboard → sign out. The server runs with the production settings (Secure
``__Host-`` cookie, which Chromium keeps for http://127.0.0.1), and the page must log no
console error: a Content-Security-Policy violation would be one.

Screenshots of each page go to a temporary directory, or to ``docs/images/web_*.png``
when ``MRDTRACK_UPDATE_SCREENSHOTS=1`` (so that a test run does not rewrite the docs).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from mrdtrack.web import WebSettings, create_app
from tests.web.support import DemoRegistry, build_registry

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DemoRegistry]]:
    """The app over a demo registry, served by uvicorn on a free port in a thread."""
    registry = build_registry(tmp_path_factory.mktemp("e2e"), second_site=False)
    app = create_app(registry.url, settings=WebSettings())
    config = uvicorn.Config(
        app, host="127.0.0.1", port=_free_port(), log_level="warning", access_log=False
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not running.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start within 15 s", pytrace=False)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}", registry
    finally:
        running.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `scripts/install --dev`, which installs "
            "Debian's chromium package (Playwright's own browser download does not work here)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("MRDTRACK_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        return DOCS_IMAGES
    return tmp_path


def _shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"web_{name}.png"), full_page=True)


def test_clinician_journey(server: tuple[str, DemoRegistry], browser: Browser, shots: Path) -> None:
    base, registry = server
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    # Sign in: the patient list asks for a session first.
    page.goto(f"{base}/patients")
    expect(page).to_have_url(f"{base}/login?next=/patients")
    _shot(page, shots, "login")
    page.fill("#username", "clinician")
    page.fill("#password", registry.passwords["clinician"])
    page.click("button:has-text('Sign in')")
    expect(page).to_have_url(f"{base}/patients")
    expect(page.locator("table.data tbody tr")).to_have_count(11)
    _shot(page, shots, "patients")

    # Open a demo patient: key facts, MRD table, protocol evaluation with its citation.
    page.fill("#q", "P03")
    page.click("button:has-text('Search')")
    page.click("a:has-text('SEED1-P03')")
    expect(page.locator("h1")).to_have_text("SEED1-P03")
    expect(page.locator("#protocol .verdict")).to_contain_text("eligible")
    expect(page.locator("#protocol")).to_contain_text("Hematol Rep 2024")
    expect(page.locator("#mrd tbody tr")).to_have_count(10)
    _shot(page, shots, "patient")

    # Enter a flow MRD result, see its status computed, then save it.
    page.click("a:has-text('Enter MRD result')")
    expect(page.locator("h1")).to_have_text("New MRD result")
    page.check("#method-flow")
    page.fill("#sample_date", "2023-04-03")
    page.select_option("#timepoint", "FOLLOW_UP")
    page.fill("#leukemic_events", "24")
    page.fill("#total_events", "200000")
    page.click("button:has-text('Compute result')")
    result = page.locator("section.result")
    expect(result.locator(".badge")).to_have_text("positive")
    expect(result).to_contain_text("1.2×10⁻⁴")
    expect(result).to_contain_text("Achieved sensitivity")
    _shot(page, shots, "mrd_entry")
    page.click("button:has-text('Save result')")
    expect(page.locator(".notice")).to_contain_text("MRD result saved")
    expect(page.locator("#mrd tr.highlight .badge")).to_have_text("positive")
    expect(page.locator("#mrd tbody tr")).to_have_count(11)

    # Plan this patient's next blinatumomab cycle: the dose check and the calendar, then
    # save it; the patient page lists the cycle with a link back to its calendar.
    page.click("a:has-text('Plan blinatumomab cycle')")
    expect(page.locator("h1")).to_contain_text("Plan a blinatumomab cycle")
    # Cycles 1 and 2 are recorded under the TPOG protocol (two at most): a third follows
    # the US label for MRD-positive disease, a fixed dose at 45 kg or more.
    page.select_option("#protocol", "blincyto-us-mrd")
    page.fill("#weight_kg", "62")
    page.fill("#height_cm", "168")
    page.fill("#prescribed_daily_dose", "28")
    page.click("button[value=plan]")
    expect(page.locator("#dose")).to_contain_text("28 mcg/day")
    expect(page.locator("#calendar li.day.infusion")).to_have_count(28)
    _shot(page, shots, "blinatumomab")
    page.click("button[value=save]")
    expect(page.locator(".notice")).to_contain_text("saved")
    page.click("a:has-text('SEED1-P03')")
    expect(page.locator("#treatments")).to_contain_text("Dose check and calendar")

    # Grade a CRS event.
    page.click("nav a:has-text('CRS grade')")
    page.fill("#temperature_c", "39.2")
    page.select_option("#hypotension", "fluids")
    page.select_option("#hypoxia", "low-flow")
    page.click("button:has-text('Grade')")
    expect(page.locator("section.result .badge")).to_have_text("Grade 2")
    _shot(page, shots, "crs")

    # The cohort dashboard: counts, curves drawn (the figures are images of their own
    # routes), then narrowed by a filter.
    page.click("nav a:has-text('Cohort')")
    expect(page.locator("#response")).to_contain_text("MRD response by time point")
    expect(page.locator(".tile").first).to_contain_text("11")
    for figure in page.locator("img.figure").all():
        figure.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=figure.element_handle()
        )
    _shot(page, shots, "cohort")
    page.select_option("#subtype", "BCR::ABL1 p190")
    page.click("button:has-text('Apply')")
    expect(page.locator(".tile").first).to_contain_text("3")

    # Sign out: the session is gone.
    page.click("button:has-text('Sign out')")
    expect(page).to_have_url(f"{base}/login")
    page.goto(f"{base}/cohort")
    expect(page).to_have_url(f"{base}/login?next=/cohort")
    assert problems == []
    page.close()


def test_data_entry_journey(
    server: tuple[str, DemoRegistry], browser: Browser, shots: Path
) -> None:
    """New patient with diagnosis → grade and save an aGVHD event → record a relapse."""
    base, registry = server
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/login")
    page.fill("#username", "data_manager")
    page.fill("#password", registry.passwords["data_manager"])
    page.click("button:has-text('Sign in')")
    expect(page).to_have_url(f"{base}/patients")

    # A new patient and its diagnosis; a refused field comes back inline first.
    page.click("a:has-text('New patient')")
    page.fill("#study_id", "E2E-P01")
    page.fill("#site_code", "CGMH")
    page.select_option("#sex", "male")
    page.fill("#diagnosis_date", "2024-05-06")
    page.select_option("#genetic_subtype", "KMT2A-r")
    page.fill("#wbc_per_ul", "lots")
    page.click("button:has-text('Create patient')")
    expect(page.locator("#wbc_per_ul-error")).to_be_visible()
    page.fill("#wbc_per_ul", "85000")
    page.select_option("#cns_status", "CNS2")
    _shot(page, shots, "patient_new")
    page.click("button:has-text('Create patient')")
    expect(page.locator("h1")).to_have_text("E2E-P01")
    expect(page.locator(".notice")).to_contain_text("Patient saved")

    # An acute GVHD event: only its calculator's findings show; compute, then save.
    page.click("a:has-text('Add adverse event')")
    page.check("#term-acute_gvhd")
    expect(page.locator("#temperature_c")).to_be_hidden()
    page.fill("#onset_date", "2024-11-04")
    page.fill("#skin_rash_bsa_percent", "60")
    page.click("button:has-text('Compute grade')")
    expect(page.locator("section.result")).to_contain_text("acute GVHD: grade")
    _shot(page, shots, "adverse_event")
    page.click("button:has-text('Save event')")
    expect(page.locator("#adverse-events")).to_contain_text("acute GVHD")

    # A relapse dated before the diagnosis is refused; then recorded with its site.
    page.click("a:has-text('Add outcome')")
    page.select_option("#kind", "relapse")
    page.fill("#event_date", "2024-01-02")
    page.fill("#detail", "BM")
    page.click("button:has-text('Save event')")
    expect(page.locator("#event_date-error")).to_contain_text("on or after the diagnosis")
    page.fill("#event_date", "2025-01-02")
    page.click("button:has-text('Save event')")
    expect(page.locator(".notice")).to_contain_text("Outcome event saved")
    # Chromium logs each refused form (HTTP 422) as a failed load; nothing else may appear.
    assert [p for p in problems if "status of 422" not in p] == []
    assert len(problems) == 2
    page.close()


def _sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button:has-text('Sign in')")


def test_admin_journey(server: tuple[str, DemoRegistry], browser: Browser, shots: Path) -> None:
    """Admin signs in with a TOTP code → creates an account → its user must replace the
    one-time password before anything else opens."""
    base, registry = server
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    _sign_in(page, base, "admin", registry.passwords["admin"])
    expect(page).to_have_url(f"{base}/login/mfa")
    _shot(page, shots, "login_mfa")
    page.fill("#code", pyotp.TOTP(registry.totp_secrets["admin"]).now())
    page.click("button:has-text('Verify')")
    page.click("nav a:has-text('Admin')")
    expect(page.locator("h1")).to_have_text("Users")
    _shot(page, shots, "admin_users")
    page.click("a:has-text('New user')")
    page.fill("#username", "e2e.nurse")
    page.fill("#display_name", "Research nurse")
    page.select_option("#role", "data_manager")
    page.click("button:has-text('Create account')")
    one_time = page.locator("code.secret").inner_text().strip()
    assert len(one_time) >= 20
    page.click("button:has-text('Sign out')")

    # The new user: every page sends them to Account until they choose a password.
    _sign_in(page, base, "e2e.nurse", one_time)
    page.goto(f"{base}/patients")
    expect(page).to_have_url(f"{base}/account")
    expect(page.locator(".alert")).to_contain_text("Choose your own password")
    _shot(page, shots, "account_forced_change")
    page.fill("#current_password", one_time)
    page.fill("#new_password", "qwerty123456")
    page.fill("#confirm_password", "qwerty123456")
    page.click("button:has-text('Set my password')")
    expect(page.locator("#new_password-error, #password-error").first).to_be_visible()
    own = "heron lantern quietly 42"
    page.fill("#current_password", one_time)
    page.fill("#new_password", own)
    page.fill("#confirm_password", own)
    page.click("button:has-text('Set my password')")
    page.goto(f"{base}/patients")
    expect(page).to_have_url(f"{base}/patients")
    # Chromium logs each refused form (HTTP 4xx) as a failed load; nothing else may appear.
    assert [p for p in problems if "status of 4" not in p] == []
    page.close()


def test_import_journey(
    server: tuple[str, DemoRegistry], browser: Browser, shots: Path, tmp_path: Path
) -> None:
    """A data manager uploads a file with an error (report, nothing written), then the
    corrected file (imported, rows counted)."""
    base, registry = server
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    _sign_in(page, base, "data_manager", registry.passwords["data_manager"])
    page.click("nav a:has-text('Import')")

    bad = tmp_path / "patients.csv"
    bad.write_text("study_id,site_code,sex,birth_date\nE2E-I1,CGMH,female,2010-13-01\n")
    page.set_input_files("#file", str(bad))
    page.click("button:has-text('Upload and import')")
    expect(page.locator("h2:has-text('Not imported')")).to_be_visible(timeout=30_000)
    expect(page.locator("section.report")).to_contain_text("birth_date")
    _shot(page, shots, "import_report")

    good = tmp_path / "patients-fixed.csv"
    good.write_text("study_id,site_code,sex,birth_date\nE2E-I1,CGMH,female,2010-12-01\n")
    page.click("a:has-text('All imports')")
    page.set_input_files("#file", str(good))
    page.click("button:has-text('Upload and import')")
    expect(page.locator("h2:has-text('Imported')")).to_be_visible(timeout=30_000)
    _shot(page, shots, "import_done")
    page.goto(f"{base}/patients?q=E2E-I1")
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    assert [p for p in problems if "status of 4" not in p] == []
    page.close()
