"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

No browser is ever downloaded: Playwright launches the system's Chromium
(``apt-get install -y chromium``), and the tests are skipped with a reason
when it is missing. Screenshots of the key pages are written to
``test-artifacts/screenshots/`` (git-ignored) under stable names.
"""
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP_REASON = f"end-to-end tests need Chromium at {CHROMIUM} (apt-get install -y chromium)"

# The live server listens on the loopback address, never on a public interface.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

# A slow, shared 2-core machine: give auto-waiting assertions some slack.
expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)


@pytest.fixture(scope="package", autouse=True)
def _allow_orm_beside_playwright():
    """While Playwright's sync API is started, this thread has a running asyncio
    loop, and Django refuses ORM calls from it (SynchronousOnlyOperation). The
    tests' own ORM calls are plain synchronous code, so allow them, for this
    package only: Playwright is stopped when the package ends (see below), so
    the rest of the suite runs with Django's check on."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# pytest-playwright's own `playwright`, `browser_type`, `browser` and
# `browser_context_args` are session-scoped: the asyncio loop would then stay
# running in the main thread for every test collected after this package.
# These overrides have the package's scope; pytest-playwright's `page`,
# `context` and `new_context` (and its --tracing/--screenshot options) use them.


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="package")
def playwright():
    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="package")
def browser_type(playwright):
    return playwright.chromium


@pytest.fixture(scope="package")
def launch_browser(browser_type, browser_type_launch_args):
    def launch(**kwargs):
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser):
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def browser_context_args(live_server):
    # Per-test extras (a phone's viewport) come from @pytest.mark.browser_context_args.
    return {"base_url": live_server.url, "locale": "en-US", "timezone_id": "UTC"}


@pytest.fixture
def context(new_context):
    context = new_context()
    context.set_default_timeout(15_000)
    return context


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig):
    path = pytestconfig.rootpath / "test-artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def shoot(screenshot_dir):
    """shoot(page, "cart") saves the whole page as test-artifacts/screenshots/cart.png."""

    def shoot(page, name):
        page.screenshot(path=screenshot_dir / f"{name}.png", full_page=True, animations="disabled", caret="hide")

    return shoot
