"""The household page in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) against ``homeboard web`` and ``homeboard run`` as real processes.

A person's path: the login form, the frame the panel shows, 'Refresh now' taken by the
real service and its outcome, the page on a phone's width, and logging out. These tests
fail, never skip, when Chromium is missing: CI must run them (``scripts/test`` installs
the two packages where apt is available).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boardkit import ServiceProcess, pushes, wait_for
from conftest import RedisServer, free_port
from webkit import PASSWORD, WebProcess, web_config

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
PHONE = (390, 844)
OUTPUT = Path(__file__).resolve().parent / "output"


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        f"{names[0]} is not installed: sudo apt-get install chromium chromium-driver "
        "(see README.md, 'Development'); the browser tests need it"
    )


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium through chromedriver, at a phone's width."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium", "chromium-browser")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    # A phone's screen: its width in CSS pixels, at twice the density.
    options.add_experimental_option(
        "mobileEmulation",
        {"deviceMetrics": {"width": PHONE[0], "height": PHONE[1], "pixelRatio": 2.0}},
    )
    service = Service(executable_path=_binary("chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def board(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[WebProcess, Path]]:
    """The service and the page, running as they would on the Pi (mock display)."""
    port = free_port()
    config = web_config(tmp_path, redis_server.url, port=port)
    service = ServiceProcess(config, tmp_path / "service.log").start()
    web = WebProcess(config, tmp_path / "web.log", port)
    try:
        web.start()
        # The service's start-up refresh pushes the first frame.
        wait_for(lambda: pushes(tmp_path / "frames"), 60, what="the first push")
        yield web, tmp_path
    finally:
        web.stop()
        service.stop()


def test_login_frame_refresh_and_logout_in_chromium(
    browser: Any, board: tuple[WebProcess, Path]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    web, tmp = board
    browser.get(web.url + "/")
    assert browser.find_elements(By.CSS_SELECTOR, "img.frame") == []
    field = browser.find_element(By.CSS_SELECTOR, "input[type=password]")

    field.send_keys("not the password")
    field.submit()
    assert "Wrong password" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text

    field = browser.find_element(By.CSS_SELECTOR, "input[type=password]")
    field.send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()

    # The frame, loaded and as large as the panel.
    frame = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "img.frame"))
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", frame
        )
    )
    assert browser.execute_script("return arguments[0].naturalWidth", frame) == 800
    assert browser.execute_script("return arguments[0].naturalHeight", frame) == 480
    assert "On the panel since" in browser.page_source
    cookie = browser.get_cookie("homeboard_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"

    # It fits a phone: no sideways scrolling, the frame scaled to the screen.
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    assert frame.size["width"] <= width
    OUTPUT.mkdir(exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "web-phone.png"))

    # Refresh now: the real service takes it, and the page (reloading itself) says how.
    before = len(pushes(tmp / "frames"))
    browser.find_element(By.XPATH, "//button[text()='Refresh now']").click()
    asked = (
        WebDriverWait(browser, 10)
        .until(lambda d: d.find_element(By.CSS_SELECTOR, "[role=status]"))
        .text
    )
    assert any(
        text in asked
        for text in ("Refresh asked for", "A refresh has been running since", "Refresh done")
    )
    done = WebDriverWait(browser, 60, poll_frequency=0.5).until(
        lambda d: (
            "Refresh done" in d.page_source
            and d.find_element(By.CSS_SELECTOR, "[role=status]").text
        )
    )
    assert "Refresh done:" in done
    assert " this page " in browser.find_element(By.CSS_SELECTOR, "ol.refreshes li").text
    # The frame did not change (same data), so the panel was rightly left alone.
    assert len(pushes(tmp / "frames")) == before
    browser.save_screenshot(str(OUTPUT / "web-phone-refreshed.png"))

    # Log out: back to the login form, and the data are gone.
    browser.find_element(By.XPATH, "//button[text()='Log out']").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "input[type=password]")
    )
    browser.get(web.url + "/status.json")
    assert "Log in first" in browser.page_source
    assert os.path.getsize(OUTPUT / "web-phone.png") > 10_000
