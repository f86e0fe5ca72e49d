"""Reading and driving the web console's pages in tests (with tests/support/browser.py)."""

from __future__ import annotations

from pathlib import Path

from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from tests.support.browser import wait_for, wait_until
from tests.support.stack import Stack

CSS = "css selector"


def find(driver: WebDriver, css: str) -> WebElement:
    return driver.find_element(CSS, css)


def texts(driver: WebDriver, css: str) -> list[str]:
    return [e.text for e in driver.find_elements(CSS, css)]


def open_console(driver: WebDriver, stack: Stack, route: str = "") -> None:
    driver.get(f"{stack.gateway_url}/console/{route}")


def badge(driver: WebDriver) -> str:
    """The job page's status."""
    return find(driver, ".job-head .badge").text


def job_id_in_address(driver: WebDriver) -> str | None:
    url = driver.current_url
    return url.split("#/jobs/", 1)[1] if "#/jobs/" in url else None


def no_alert(driver: WebDriver) -> bool:
    try:
        _ = driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def submit_files(driver: WebDriver, stack: Stack, *files: Path) -> str:
    """Choose the files on the submit page, submit as the form stands; the new job's id."""
    open_console(driver, stack, "#/submit")
    wait_for(driver, "#file-input").send_keys("\n".join(str(f) for f in files))
    find(driver, "#submit-job").click()
    job_id: str = wait_until(driver, job_id_in_address, 60, "no job page after submitting")
    return job_id
