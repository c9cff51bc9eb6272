"""`quorumlab serve` in a real headless Chromium (Debian's chromium and chromium-driver,
driven by Selenium): from the run list to an invalid run's report, and a traversal
refused. Screenshots of both pages are left in the test's tmp folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.stored_runs import make_run
from tests.integration.run_helpers import REPO, quorumlab_env

pytestmark = pytest.mark.slow
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
WAIT_S = 30  # the machine is shared: generous, and only ever a ceiling


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("browser") / "histories"
    make_run(store, "valid.jsonl", "fine")
    make_run(store, "stale-read.jsonl", "stale")
    return store


@pytest.fixture
def server(store: Path) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "harness", "serve", "--port", "0",
                             "--store-dir", str(store)], stdout=subprocess.PIPE, text=True,
                            env=quorumlab_env(), cwd=REPO)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("quorumlab serve: http://127.0.0.1:"), line
        yield line.split()[2]
    finally:
        proc.terminate()
        assert proc.wait(timeout=WAIT_S) == 0, "SIGTERM stops the server cleanly"


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--window-size=1300,1400"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_page_load_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()


def test_from_the_run_list_to_an_invalid_runs_report(server: str, browser: WebDriver,
                                                      tmp_path: Path) -> None:
    browser.get(server)
    wait = WebDriverWait(browser, WAIT_S)
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.run")
    assert [row.get_attribute("data-state") for row in rows] == ["invalid", "valid"]
    browser.save_screenshot(str(tmp_path / "runs.png"))

    Select(browser.find_element(By.ID, "verdict")).select_by_value("invalid")
    browser.find_element(By.ID, "filter").click()
    wait.until(expected_conditions.url_contains("verdict=invalid"))
    (row,) = browser.find_elements(By.CSS_SELECTOR, "tr.run")
    assert "1 stale-read" in row.text
    row.find_element(By.CSS_SELECTOR, "a.report").click()

    wait.until(expected_conditions.title_contains("stale: INVALID"))
    badge = browser.find_element(By.CSS_SELECTOR, "h1 .badge")
    assert badge.text == "INVALID"
    anomaly = browser.find_element(By.CSS_SELECTOR, ".anomaly[data-kind='stale-read']")
    explanation = anomaly.find_element(By.CSS_SELECTOR, ".explanation").text
    assert "read #10 (k1) returned '0-1'" in explanation and "acknowledged" in explanation
    assert anomaly.find_element(By.CSS_SELECTOR, "svg.timeline").is_displayed()
    browser.save_screenshot(str(tmp_path / "report.png"))

    browser.find_element(By.LINK_TEXT, "history.jsonl").click()
    wait.until(expected_conditions.url_contains("history.jsonl"))
    assert '"f":"write"' in browser.find_element(By.TAG_NAME, "body").text


def test_a_traversal_attempt_is_refused(server: str, browser: WebDriver) -> None:
    for path in ("files/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "files/%2Fetc%2Fpasswd"):
        browser.get(server + path)
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "404" in body and "root:" not in body
