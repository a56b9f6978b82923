"""The dead-letter dashboard in a real Chromium (Debian's, driven by Selenium), on the real broker, with real dead
letters: the bundled DE sample export ingested, its defective records on the DLQ.

Skips, saying why, only where Chromium is not installed locally; under CI (``CI`` set) a missing browser fails.
Screenshots go to ``.cache/artefacts/dashboard/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.connectors import discovery
from gateway.dashboard.auth import hash_password
from gateway.devservices.provision import provision
from gateway.dlq import headers as H
from gateway.dlq import tools
from gateway.pipeline.file_ingest import FileIngestor
from tests.integration.support.processes import SpawnGateway
from tests.integration.support.topics import fresh_topics, read_all

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / ".cache" / "artefacts" / "dashboard"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SAMPLE = ROOT / "samples" / "de-csv.csv"
PASSWORDS = {"ana": "ana-operator-pw", "ben": "ben-viewer-pw1"}
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def _browser_or_skip() -> None:
    """Skip loudly where Chromium is missing locally; fail under CI, where .ci/run installs it."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (make bootstrap)")
    if not missing:
        return
    reason = (
        f"DASHBOARD BROWSER TEST NOT RUN: {', '.join(missing)} missing; "
        "install Debian's browser with `apt-get install -y chromium chromium-driver`"
    )
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Dashboard:
    url: str
    settings: GatewaySettings
    audit_topic: str
    bootstrap: str


@pytest.fixture
def dashboard(kafka_bootstrap: str, tmp_path: Path, start: SpawnGateway) -> Dashboard:
    """The DE sample ingested (its defective records dead-lettered) and ``gateway dashboard`` serving its DLQ."""
    _browser_or_skip()
    topics = fresh_topics("dash")
    settings = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=topics)
    provision(settings, ["de-csv"])
    cls = discovery.load("de-csv")
    connector = cls(cls.config_model.model_validate({"member_state": "DE"}))
    summary = FileIngestor(connector, settings).ingest(SAMPLE)
    manifest = json.loads(SAMPLE.with_name(SAMPLE.name + ".manifest.json").read_text())
    assert summary.dead_letters == len(manifest["defects"]) > 1

    audit_topic = topics.canonical.removesuffix(".events") + ".audit"
    gateway_toml = tmp_path / "gateway.toml"
    gateway_toml.write_text(
        f'[kafka]\nbootstrap_servers = "{kafka_bootstrap}"\n[topics]\n'
        + "".join(f'{k} = "{v}"\n' for k, v in topics.model_dump().items() if isinstance(v, str))
    )
    board_toml = tmp_path / "dashboard.toml"
    board_toml.write_text(
        f'connectors = ["de-csv"]\naudit_topic = "{audit_topic}"\ncookie_secure = false\n'
        f'session_secret = "test-only-session-secret-0123456789"\nbucket_minutes = 1\n'
        f'[users.ana]\nrole = "operator"\npassword_hash = "{hash_password(PASSWORDS["ana"])}"\n'
        f'[users.ben]\nrole = "viewer"\npassword_hash = "{hash_password(PASSWORDS["ben"])}"\n'
    )
    port = _free_port()
    log = tmp_path / "dashboard.log"
    proc = start(
        ["dashboard", "--config", str(gateway_toml), "--dashboard-config", str(board_toml), "--port", str(port)], log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the dashboard did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    return Dashboard(url, settings, audit_topic, kafka_bootstrap)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Debian's Chromium through its own chromedriver: the paths are given, so selenium-manager never downloads."""
    _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # to catch CSP violations in the console
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTEFACTS / f"{name}.png"))


def _navigate(driver: Any, element: Any) -> None:
    """Click something that loads a page, and wait until the new page has loaded (`_loading_a_page`)."""
    _loading_a_page(driver, element.click)


def _loading_a_page(driver: Any, action: Callable[[], object]) -> None:
    """Do something that loads a new page, and return once that page is loaded.

    The old page is marked with a property on its ``document`` (a new page has a new one, without it), and the wait
    asks the browser for that mark and ``readyState``, re-finding nothing from the old page: an element handle of a
    page being replaced can fail with a stale-element error or, in Chromium, an inspector error ("Node with given id
    does not belong to the document"), so none is kept across the navigation. Errors while the page is being
    swapped are retried until the time limit.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    mark = f"gw-{uuid.uuid4().hex}"
    driver.execute_script("document.gwPageMark = arguments[0];", mark)
    action()
    WebDriverWait(driver, 30, poll_frequency=0.05, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return document.gwPageMark !== arguments[0] && document.readyState === 'complete';", mark
        )
    )


def _sign_in(driver: Any, url: str, user: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/login")
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[user])
    _navigate(driver, driver.find_element(By.ID, "sign-in"))
    assert driver.find_elements(By.ID, "me"), driver.page_source[:3000]
    assert driver.find_element(By.ID, "me").text.startswith(user)


def test_dashboard_in_chromium(dashboard: Dashboard, browser: Any):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, settings = dashboard.url, dashboard.settings
    dlq, raw = settings.topics.dlq("de-csv"), settings.topics.raw("de-csv")
    truth = tools.stats(settings.kafka, dlq)

    # A viewer: the page loads and its counts are the topic's.
    _sign_in(browser, url, "ben")
    assert browser.current_url.endswith("/c/de-csv")
    assert browser.find_element(By.ID, "total-all").text == str(truth.total)
    stage_rows = browser.find_elements(By.CSS_SELECTOR, "table[data-breakdown='stage'] tbody tr")
    shown_stages = {
        r.find_elements(By.TAG_NAME, "td")[0].text: int(r.find_elements(By.TAG_NAME, "td")[1].text) for r in stage_rows
    }
    assert shown_stages == {k.lower(): v for k, v in truth.by_stage.items()}
    assert len(browser.find_elements(By.CSS_SELECTOR, "#dead-letters tbody tr[data-ref]")) == truth.total
    assert browser.find_elements(By.CSS_SELECTOR, "svg#chart rect")
    _shot(browser, "01-viewer-overview")

    # A filter: one stage of several.
    stage, count = min(truth.by_stage.items(), key=lambda kv: kv[1])
    assert count < truth.total
    Select(browser.find_element(By.ID, "f-stage")).select_by_value(stage.lower())
    _navigate(browser, browser.find_element(By.ID, "apply-filter"))
    assert browser.find_element(By.ID, "total-shown").text == str(count)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#dead-letters tbody tr[data-ref]")) == count
    assert stage.lower() not in browser.current_url.lower()  # filters are posted, never in the URL
    _shot(browser, "02-viewer-filtered")

    # A record's detail, reached by its offset.
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "#dead-letters tbody tr[data-ref] a"))
    assert "/r/" in browser.current_url
    assert browser.find_element(By.ID, "headers").text.count("__connect.errors.") >= 3
    assert browser.find_element(By.ID, "original").text
    _shot(browser, "03-viewer-record")

    # The viewer has no replay button, and a forged replay POST with their session and token is refused.
    browser.get(f"{url}/c/de-csv")
    assert browser.find_elements(By.ID, "replay-selected") == []
    assert browser.find_elements(By.CSS_SELECTOR, "input.pick") == []
    csrf = browser.find_element(By.CSS_SELECTOR, "#filter-form input[name=csrf]").get_attribute("value")
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    victim = next(iter(tools.read_dead_letters(settings.kafka, dlq)))
    forged = httpx.post(
        f"{url}/c/de-csv/replay/confirm",
        data={
            "csrf": csrf,
            "ref": f"{victim.partition}:{victim.offset}",
            "reason": "forged by a viewer",
            "confirm": "yes",
        },
        cookies=cookies,
        headers={"origin": url},
    )
    assert forged.status_code == 403
    assert "Only operators may replay" in forged.text
    # ... and so is one forged from the browser itself.
    _loading_a_page(
        browser,
        lambda: browser.execute_script(
            """
            const f = document.createElement('form'); f.method = 'post'; f.action = '/c/de-csv/replay/confirm';
            for (const [k, v] of [['csrf', arguments[0]], ['ref', arguments[1]], ['reason', 'forged in the page'],
                                  ['confirm', 'yes']]) {
              const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
            }
            document.body.appendChild(f); f.submit();
            """,
            csrf,
            f"{victim.partition}:{victim.offset}",
        ),
    )
    assert "Only operators may replay" in browser.find_element(By.ID, "problem").text
    _shot(browser, "04-viewer-replay-refused")
    assert read_all(dashboard.bootstrap, raw) == []
    assert read_all(dashboard.bootstrap, dashboard.audit_topic) == []

    # An operator replays two dead letters, confirming and saying why.
    browser.get(f"{url}/c/de-csv")
    _navigate(browser, browser.find_element(By.ID, "logout"))
    _sign_in(browser, url, "ana")
    boxes = browser.find_elements(By.CSS_SELECTOR, "input.pick")
    assert len(boxes) == truth.total
    select_all = browser.find_element(By.ID, "select-all")
    select_all.click()  # the app's own script (CSP script-src 'self') ticks every row ...
    assert all(b.is_selected() for b in boxes)
    select_all.click()  # ... and unticks them
    assert not any(b.is_selected() for b in boxes)
    chosen = sorted(b.get_attribute("value") for b in boxes[:2])
    for box in boxes[:2]:
        box.click()
    _shot(browser, "05-operator-selected")
    _navigate(browser, browser.find_element(By.ID, "replay-selected"))
    confirm_rows = browser.find_elements(By.CSS_SELECTOR, "#to-replay tbody tr")
    assert sorted(r.get_attribute("data-ref") for r in confirm_rows) == chosen
    assert read_all(dashboard.bootstrap, raw) == []  # nothing happens before the confirmation
    browser.find_element(By.ID, "reason").send_keys("code table fixed in release 1.2 (ticket 42)")
    _shot(browser, "06-operator-confirm")
    _navigate(browser, browser.find_element(By.ID, "confirm-replay"))
    assert browser.find_element(By.ID, "replayed-refs").text == ", ".join(chosen)
    _shot(browser, "07-operator-replayed")

    # The replayed records reach the raw topic, each naming its dead letter ...
    by_ref = {f"{r.partition}:{r.offset}": r for r in tools.read_dead_letters(settings.kafka, dlq)}
    replayed = read_all(dashboard.bootstrap, raw)
    assert len(replayed) == 2
    sources = {}
    for message in replayed:
        h = H.as_text(message.headers())
        sources[h[H.REPLAYED_FROM]] = message.value()
    assert sources == {f"{dlq}:{ref}": by_ref[ref].value for ref in chosen}

    # ... and the audit trail says who, when, which offsets and why.
    audit = [json.loads(m.value()) for m in read_all(dashboard.bootstrap, dashboard.audit_topic)]
    assert [a["phase"] for a in audit] == ["requested", "done"]
    for entry in audit:
        assert (entry["user"], entry["role"], entry["connector"]) == ("ana", "operator", "de-csv")
        assert entry["refs"] == chosen
        assert entry["reason"] == "code table fixed in release 1.2 (ticket 42)"
        assert (entry["dlq_topic"], entry["raw_topic"]) == (dlq, raw)
        assert entry["at"]
        assert entry["client"] == "127.0.0.1"
    assert audit[1]["replayed"] == chosen

    # The pages ran under their CSP without a single violation (no inline script or style was needed).
    console = [entry["message"] for entry in browser.get_log("browser")]
    assert not [m for m in console if "Content Security Policy" in m or "Refused to" in m], console


@pytest.mark.parametrize(("ci", "outcome"), [(None, pytest.skip.Exception), ("true", pytest.fail.Exception)])
def test_a_missing_browser_skips_locally_but_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: type[BaseException]
):
    monkeypatch.setitem(globals(), "CHROMIUM", Path("/nonexistent/chromium"))
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="DASHBOARD BROWSER TEST NOT RUN: /nonexistent/chromium missing"):
        _browser_or_skip()
