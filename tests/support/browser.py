"""Headless Debian Chromium through its chromedriver (Selenium), for the console tests.

Selenium Manager would download a browser of its own, which fails offline: the paths are
given, so it never runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait


def chromium_paths() -> tuple[str, str] | None:
    """(browser, driver) where Debian's chromium and chromium-driver are installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[WebDriver]:
    paths = chromium_paths()
    if paths is None:
        raise RuntimeError("chromium or chromedriver not installed; run make system-deps")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespaces for the sandbox
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--autoplay-policy=no-user-gesture-required",
        "--mute-audio",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=paths[1]))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, css: str, seconds: float = 30) -> WebElement:
    found: WebElement = WebDriverWait(driver, seconds).until(
        ec.presence_of_element_located(("css selector", css))
    )
    return found


def wait_until(driver: WebDriver, check: Any, seconds: float = 30, message: str = "") -> Any:
    """Wait until check(driver) is truthy; its value. The page re-renders as data comes,
    so an element gone between finding and reading it is a miss, not an error."""
    ignored = (NoSuchElementException, StaleElementReferenceException)
    wait = WebDriverWait(driver, seconds, poll_frequency=0.2, ignored_exceptions=ignored)
    return wait.until(check, message)


def console_errors(driver: WebDriver) -> list[str]:
    """The browser console's errors since the last call (CSP violations included)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
