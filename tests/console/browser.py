"""Headless Debian Chromium driven by Selenium, and the console's pages as page objects.

Installed by `.ci/run` (`apt-get install chromium chromium-driver`) when missing; the browser
tests fail, never skip, when CI runs without it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

SHOTS = Path(__file__).resolve().parents[2] / "shots"
DOC_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img" / "console"
WAIT_SECONDS = 15


def chromium_paths() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_browser() -> webdriver.Chrome:
    browser, driver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(60)
    return chrome


def shoot(driver: webdriver.Chrome, name: str) -> None:
    """A full-page screenshot into shots/ (not committed), to look at. With
    `CASELOAD_CONSOLE_SHOTS=docs` a copy in 64 colours also goes to docs/img/console/, where
    docs/console.md shows it."""
    mode = os.environ.get("CASELOAD_CONSOLE_SHOTS", "1")
    if mode == "0":
        return
    SHOTS.mkdir(exist_ok=True)
    # From the top, and tall enough for the window's own frame not to clip the page's end.
    driver.execute_script("window.scrollTo(0, 0)")
    height = driver.execute_script("return document.documentElement.scrollHeight") + 140
    driver.set_window_size(1280, min(max(height, 800), 6000))
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1280, 1000)
    if mode == "docs":
        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        with Image.open(SHOTS / f"{name}.png") as shot:
            small = shot.convert("RGB").quantize(colors=64)
            small.save(DOC_SHOTS / f"{name}.png", optimize=True)


# While a form's answer replaces the page, Chromium may report the old page's node as gone
# (`Node with given id does not belong to the document`): look again rather than fail.
_NAVIGATING = (StaleElementReferenceException, WebDriverException)


def wait_for(driver, locator, timeout=WAIT_SECONDS):
    wait = WebDriverWait(driver, timeout, ignored_exceptions=_NAVIGATING)
    return wait.until(seen.visibility_of_element_located(locator))


def wait_for_text(driver, locator, text, timeout=WAIT_SECONDS):
    WebDriverWait(driver, timeout).until(seen.text_to_be_present_in_element(locator, text))


def heading(driver) -> str:
    wait = WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=_NAVIGATING)
    return wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text)


# Accessibility: axe-core 4 (shipped by selenium-axe-python) against WCAG 2.x A and AA rules.
AXE_OPTIONS = (
    "{runOnly: {type: 'tag', values: "
    "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}, resultTypes: ['violations']}"
)
BLOCKING_IMPACTS = {"serious", "critical"}


def axe_violations(driver) -> list[dict]:
    """Serious and critical violations on the current page (none is the bar)."""
    from selenium_axe_python import Axe

    axe = Axe(driver)
    axe.inject()
    results = axe.run(options=AXE_OPTIONS)
    return [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    return "; ".join(
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in violations
    )


class Pages:
    """The console's pages, as a user at a keyboard meets them."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base = base_url.rstrip("/")

    def open(self, path: str) -> str:
        self.driver.get(self.base + path)
        return heading(self.driver)

    def sign_in(self, username: str, password: str, code: Callable[[], str]) -> str:
        from selenium.webdriver.common.keys import Keys

        self.open("/console/login/")
        self.driver.find_element(By.ID, "id_username").send_keys(username)
        self.driver.find_element(By.ID, "id_password").send_keys(password, Keys.ENTER)
        wait_for(self.driver, (By.ID, "id_token")).send_keys(code(), Keys.ENTER)
        wait_for(self.driver, (By.ID, "logout-form"))
        return heading(self.driver)

    def focused(self):
        return self.driver.switch_to.active_element

    def tab_to(self, matches: Callable[[object], bool], limit: int = 80):
        """Press Tab until the focused element matches; the keyboard user's way there."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        # A page just loaded has no focus yet: start where the skip link leads, at the main
        # content, as a keyboard user does.
        self.driver.execute_script(
            "if (!document.activeElement || document.activeElement === document.body) {"
            " document.getElementById('main').focus(); }"
        )
        for _ in range(limit):
            ActionChains(self.driver).send_keys(Keys.TAB).perform()
            element = self.focused()
            if matches(element):
                return element
        raise AssertionError("Tab never reached the element")

    def press(self, *keys) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.driver).send_keys(*keys).perform()
