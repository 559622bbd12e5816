"""A real headless Chromium with networking off, installed by the test set-up if missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def _found() -> str | None:
    for name in (os.environ.get("CHROMIUM"), *CANDIDATES):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def chromium() -> str:
    """The browser's path; installs Debian's chromium with apt-get when there is none."""
    if not _found() and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            env=env,
            check=False,
            capture_output=True,
        )
    path = _found()
    if not path:
        pytest.fail(
            "no Chromium: install Debian's `chromium` (apt-get install chromium) "
            "or set CHROMIUM to a Chrome/Chromium binary"
        )
    return path


def _offline_prefix() -> list[str]:
    """`unshare -n` (a network namespace with no network) where we may; the dead proxy
    flag below keeps the page offline where we may not."""
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return ["unshare", "-n"] if probe.returncode == 0 else []


def _headless(page: Path | str, *action: str) -> subprocess.CompletedProcess:
    is_url = isinstance(page, str)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            *([] if is_url else _offline_prefix()),
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--proxy-server=http://127.0.0.1:9",
            f"--user-data-dir={profile}",
            "--window-size=1000,1400",
            "--virtual-time-budget=10000",
            *action,
            page if is_url else page.resolve().as_uri(),
        ]
        return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)


def page_text(page: Path | str) -> str:
    """The page's DOM after its scripts ran."""
    return _headless(page, "--dump-dom").stdout


def screenshot(page: Path | str, out: Path) -> Path:
    """A screenshot of a file (in a network namespace with no network) or of a URL on
    loopback (reachable; every other host goes to a dead proxy, which Chromium does not
    use for loopback)."""
    _headless(page, f"--screenshot={out}")
    if not out.exists():
        pytest.fail(f"Chromium wrote no screenshot of {page}")
    return out


def drawn_pixels(png: Path) -> int:
    """Pixels that are not the white page background."""
    from PIL import Image

    with Image.open(png) as image:
        return sum(1 for pixel in image.convert("L").getdata() if pixel < 250)
