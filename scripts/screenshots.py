"""The demo's verification pages in a real browser: the harness the browser tests use, and the
script that regenerates the README's screenshots from it.

    python scripts/screenshots.py            # writes docs/img/verify-*.png

`demo_site()` starts Anvil on a free port, plays the demo story there (with the participant
directory the operator publishes) and serves the resolver from a thread on 127.0.0.1;
`launch_chromium()` starts the system Chromium (Debian's `chromium` package) through Playwright;
`open_page()` opens a page at a phone's size. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from provenance import node
from provenance.chain import Chain, connect
from provenance.demo import DemoResult, run
from provenance.web.app import create_app
from provenance.web.server import bind, running
from provenance.web.source import RpcSource

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "img"
CHROMIUM_ENV = "PROVENANCE_CHROMIUM"
#: The closed network here refuses Chromium's own background connections: these flags stop them.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: A phone: the main case of a customer scanning a label.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}  # fmt: skip
JAM_GTIN, RAW_GTIN = "09521234000013", "09506000134352"
#: The four batches of the demo story: label → (GTIN, lot, verdict).
BATCHES = {
    "lot A": (JAM_GTIN, "JAM-2026-01-A", "WARNING"),
    "lot B": (JAM_GTIN, "JAM-2026-01-B", "FAILED"),
    "farm batch": (RAW_GTIN, "STRAW-2026-001", "WARNING"),
    "unrelated batch": (RAW_GTIN, "STRAW-2026-002", "VERIFIED"),
}


def path_of(gtin: str, lot: str) -> str:
    return f"/01/{gtin}/10/{quote(lot, safe='')}"


def chromium_path() -> str | None:
    """$PROVENANCE_CHROMIUM, else `chromium` on PATH (Debian: /usr/bin/chromium)."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright: Any) -> Any:
    """The system Chromium, headless, through Playwright (its own browser download is not
    reachable here). Playwright gives it a fresh profile directory."""
    path = chromium_path()
    if path is None:
        raise RuntimeError(
            "no Chromium found: install it (Debian: apt-get install chromium) or set "
            f"{CHROMIUM_ENV}=/path/to/chromium"
        )
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


@dataclass
class Site:
    base: str
    chain: Chain
    result: DemoResult
    source: RpcSource
    app: Any
    rpc: str

    def url(self, label: str) -> str:
        gtin, lot, _verdict = BATCHES[label]
        return self.base + path_of(gtin, lot)


@contextmanager
def demo_site(rpc: str | None = None, head_ttl: float = 0.5) -> Iterator[Site]:
    """The demo story on a fresh Anvil (or the node at `rpc`), served from a thread."""
    with tempfile.TemporaryDirectory(prefix="provenance-web-") as tmp:
        data = Path(tmp)
        info = None
        if rpc is None:
            sock = bind("127.0.0.1", 0)
            port = sock.getsockname()[1]
            sock.close()
            info = node.start("anvil", port, data, fresh=True, state_interval=0)
            rpc = info.url
        try:
            chain = connect(rpc)
            result = run(chain, save=False, root=data)
            source = RpcSource(chain, result.deployment, result.directory)
            app = create_app(source, head_ttl=head_ttl)
            with running(app) as base:
                yield Site(base, chain, result, source, app, rpc)
        finally:
            if info is not None:
                node.stop(data)


def open_page(browser: Any, url: str) -> Any:
    """A new phone-sized page at `url` (no JavaScript: the page must work without it)."""
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(url)
    return page


def screenshot(browser: Any, url: str, path: Path, *, full_page: bool = True) -> Path:
    page = open_page(browser, url)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    page.context.close()
    return path


def main() -> None:
    from playwright.sync_api import sync_playwright

    with demo_site() as site, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for label, (_gtin, _lot, verdict) in BATCHES.items():
                name = f"verify-{label.replace(' ', '-')}.png"
                # The README shows what a phone shows first: the top of the page.
                written = screenshot(browser, site.url(label), IMAGES / name, full_page=False)
                print(f"{verdict:8} {written.relative_to(ROOT)}")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
