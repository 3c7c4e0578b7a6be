"""Headless Debian Chromium driven by Selenium, and the console's pages as page objects.

Installed by `.ci/run` (`apt-get install chromium chromium-driver`) when missing; the browser
tests fail, never skip, when CI runs without it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

SHOTS = Path(__file__).resolve().parents[2] / "shots"
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
    """A full-page screenshot into shots/ (not committed), to look at."""
    if os.environ.get("CASELOAD_CONSOLE_SHOTS", "1") == "0":
        return
    SHOTS.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 800), 6000))
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1280, 1000)


def wait_for(driver, locator, timeout=WAIT_SECONDS):
    return WebDriverWait(driver, timeout).until(seen.visibility_of_element_located(locator))


def wait_for_text(driver, locator, text, timeout=WAIT_SECONDS):
    WebDriverWait(driver, timeout).until(seen.text_to_be_present_in_element(locator, text))


def heading(driver) -> str:
    return wait_for(driver, (By.TAG_NAME, "h1")).text
