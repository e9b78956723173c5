"""Browser test of the built website (run after `make book`; `make test` does both).

Serves ``_build/html`` on localhost, opens each chapter page in headless Chromium
(Debian's ``chromium``, driven by Playwright) with every non-local request blocked,
and checks what a reader sees: every image loaded, no local request failed, no
script error, and moving a static control of each interactive figure changes the
picture; the pages ask nothing of the internet (MathJax included) and every
formula is typeset. Screenshots go to ``_build/screenshots/`` to be looked at.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"

#: Pages a reader must be able to use; each chapter adds its pages here.
PAGES = {
    "intro": "book/intro.html",
    "setup": "notebooks/00_setup.html",
    "ch01": "notebooks/01_perceptron.html",
    "ch01-exercises": "notebooks/01_perceptron_exercises.html",
    "ch02": "notebooks/02_backprop.html",
    "ch02-exercises": "notebooks/02_backprop_exercises.html",
    "ch03": "notebooks/03_optimizers.html",
    "ch03-exercises": "notebooks/03_optimizers_exercises.html",
    "ch04": "notebooks/04_regularization.html",
    "ch04-exercises": "notebooks/04_regularization_exercises.html",
    "ch05": "notebooks/05_propagation.html",
    "ch05-exercises": "notebooks/05_propagation_exercises.html",
    "ch06": "notebooks/06_convolution.html",
    "ch06-exercises": "notebooks/06_convolution_exercises.html",
    "ch07": "notebooks/07_recurrent.html",
    "ch07-exercises": "notebooks/07_recurrent_exercises.html",
    "ch08": "notebooks/08_attention.html",
    "ch08-exercises": "notebooks/08_attention_exercises.html",
    "ch09": "notebooks/09_transformer.html",
    "ch09-vit": "notebooks/09_vit.html",
    "ch09-exercises": "notebooks/09_transformer_exercises.html",
    "ch10": "notebooks/10_transfer.html",
    "ch10-exercises": "notebooks/10_transfer_exercises.html",
    "ch11": "notebooks/11_epilogue.html",
    "instructors": "book/instructors.html",
}
#: Pages that must carry at least this many interactive figures.
FIGURES = {
    "setup": 1,
    "ch01": 2,
    "ch02": 1,
    "ch03": 1,
    "ch04": 1,
    "ch05": 2,
    "ch06": 3,
    "ch07": 2,
    "ch08": 2,
    "ch09": 2,
    "ch09-vit": 1,
    "ch10": 1,
}

pytestmark = pytest.mark.browser


def _chromium() -> str:
    path = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail("Chromium is missing: install Debian's `chromium` (.ci/run does)")
    return path


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail(f"{HTML}/index.html is missing: build the book first (make book)")
    handler = functools.partial(QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output readable
        pass


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=_chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def _open(browser, server: str, path: str):
    """Open a page with the network cut off; return it and the failures seen."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen: dict[str, list[str]] = {"failed": [], "external": [], "errors": [], "console": []}

    def route(r):
        if urlparse(r.request.url).hostname in {"127.0.0.1", "localhost"}:
            r.continue_()
        elif r.request.url.startswith("data:"):
            r.continue_()
        else:  # the site must work offline: record and refuse every outside request
            seen["external"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on(
        "requestfailed",
        lambda req: urlparse(req.url).hostname == "127.0.0.1" and seen["failed"].append(req.url),
    )
    page.on(
        "response",
        lambda res: (
            res.status >= 400
            and urlparse(res.url).hostname == "127.0.0.1"
            and seen["failed"].append(f"{res.status} {res.url}")
        ),
    )
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and seen["console"].append(msg.text))
    page.goto(f"{server}/{path}", wait_until="load")
    return page, seen


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_completely(browser, server, name):
    page, seen = _open(browser, server, PAGES[name])
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    assert seen["failed"] == [], f"local requests failed on {name}: {seen['failed']}"
    assert seen["errors"] == [], f"script errors on {name}: {seen['errors']}"
    # A fresh visit (new browser context, empty storage) logs no error to the console.
    assert seen["console"] == [], f"console errors on {name}: {seen['console']}"
    broken = page.evaluate(
        "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.src.slice(0, 80))"
    )
    assert broken == [], f"images that did not load on {name}: {broken}"
    # The site works offline: figures, maths and theme come from the site itself.
    assert seen["external"] == [], f"{name} asked the internet for {seen['external']}"
    if page.locator(".math").count():
        page.wait_for_selector("mjx-container", state="attached", timeout=15_000)
        raw = page.evaluate(
            "Array.from(document.querySelectorAll('.math'))"
            ".filter(e => !e.querySelector('mjx-container')).length"
        )
        assert raw == 0, f"{name}: {raw} formulas were not typeset by MathJax"
    page.close()


@pytest.mark.parametrize("name", list(FIGURES))
def test_static_figures_respond(browser, server, name):
    page, seen = _open(browser, server, PAGES[name])
    figures = page.locator(".nnlib-figure")
    assert figures.count() >= FIGURES[name], f"{name}: expected {FIGURES[name]} figures"
    for i in range(figures.count()):
        fig = figures.nth(i)
        fig.scroll_into_view_if_needed()
        img = fig.locator("img")
        assert img.evaluate("i => i.complete && i.naturalWidth > 0"), f"figure {i} has no picture"
        before_src, before_frame = img.get_attribute("src"), img.get_attribute("data-frame")
        fields = fig.locator("[data-axis]")
        assert fields.count() >= 1, f"{name}: figure {i} has no browser-side control"
        control = fields.first
        if control.evaluate("e => e.tagName") == "SELECT":
            n = control.locator("option").count()
            current = int(control.input_value())
            control.select_option(str((current + 1) % n))
        else:
            lo, hi = int(control.get_attribute("min")), int(control.get_attribute("max"))
            current = int(control.input_value())
            target = hi if current != hi else lo
            control.evaluate(
                "(e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }", target
            )
        after_src, after_frame = img.get_attribute("src"), img.get_attribute("data-frame")
        assert after_frame != before_frame, f"{name}: figure {i} did not change frame"
        assert after_src != before_src, f"{name}: figure {i} shows the same picture"
        fig.screenshot(path=str(SHOTS / f"{name}-figure{i}.png"))
    assert seen["errors"] == [], f"script errors on {name}: {seen['errors']}"
    page.close()


class ImageAlts(html.parser.HTMLParser):
    """Collects the ``alt`` text of every ``<img>`` of a page (None where it is missing)."""

    def __init__(self) -> None:
        super().__init__()
        self.alts: list[str | None] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "img":
            self.alts.append(dict(attrs).get("alt"))


#: An alt text that names a file, or says nothing about the picture.
MEANINGLESS_ALT = re.compile(
    r"(^\s*$)|(\.(png|jpe?g|svg|gif|webp)\b)|(_images/)|(^[0-9a-f]{16,}$)|(^interactive figure$)",
    re.IGNORECASE,
)


def _meaningless_alts(page: str) -> list[str | None]:
    parser = ImageAlts()
    parser.feed(page)
    return [a for a in parser.alts if a is None or MEANINGLESS_ALT.search(a)]


def test_alt_text_check_rejects_file_names_and_empty_alts():
    page = (
        '<img alt="../_images/0a1b2c.png" src="x"><img alt="" src="y"><img src="z">'
        '<img alt="interactive figure"><img alt="Loss against the step: Adam falls first.">'
    )
    assert _meaningless_alts(page) == ["../_images/0a1b2c.png", "", None, "interactive figure"]


@pytest.mark.parametrize("name", list(PAGES))
def test_every_figure_has_meaningful_alt_text(name):
    """A screen reader reads a figure's alt text: its caption or a description, never a file."""
    path = HTML / PAGES[name]
    if not path.exists():
        pytest.fail(f"{path} is missing: build the book first (make book)")
    bad = _meaningless_alts(path.read_text())
    assert bad == [], f"{name}: images without meaningful alt text: {bad[:5]}"


NOTEBOOK_PAGES = [name for name, path in PAGES.items() if path.startswith("notebooks/")]


@pytest.mark.parametrize("name", NOTEBOOK_PAGES)
def test_notebook_pages_offer_binder_colab_and_download(name):
    """The launch menu opens this very notebook from the configured repository."""
    import notebook_tools as tools  # scripts/ is on pytest's pythonpath

    repo = urlparse(tools.repository_url()).path.strip("/")  # owner/name
    notebook = Path(PAGES[name]).with_suffix(".ipynb").as_posix()
    page = (HTML / PAGES[name]).read_text()
    assert f"https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/{notebook}" in page
    assert f"https://colab.research.google.com/github/{repo}/blob/main/{notebook}" in page
    assert f"_sources/{notebook}" in page, "no download link to the .ipynb source"
    assert "initThebe" in page, "no live-code (Thebe) button"
