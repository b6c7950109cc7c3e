"""Headless Chromium for the browser tests, driven by the `playwright` package.

The system's Chromium is used (Debian's `chromium`; CI installs it): Playwright's
own browser download is never needed. Without a Chromium binary, or when
Playwright cannot start it, the tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """GIGBOT_CHROMIUM, else `chromium` (or `chromium-browser`) on PATH, else /usr/bin/chromium."""
    for candidate in (
        os.environ.get("GIGBOT_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        "/usr/bin/chromium",
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium binary (apt-get install chromium, or set GIGBOT_CHROMIUM)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    manager = async_playwright()
    try:
        playwright = await manager.start()
    except Exception as error:  # the driver could not start at all
        pytest.skip(f"playwright cannot start: {type(error).__name__}: {error}")
    try:
        try:
            chromium = await playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            pytest.skip(
                f"playwright cannot start {executable}: {type(error).__name__}: {first_line}"
            )
        try:
            yield chromium
        finally:
            await chromium.close()
    finally:
        await manager.__aexit__(None, None, None)
