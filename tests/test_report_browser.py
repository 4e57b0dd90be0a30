"""The HTML report in a real browser: headless Chromium, driven by selenium, with the network
switched off. Checks that the page loads nothing from outside, that the map is drawn with its
points (in the segments' colours) and that both shortlist tables render with their rows.

Marked ``browser``; skipped, with the reason, where Chromium or its driver is not installed
(Debian: ``apt-get install chromium chromium-driver``) or selenium is missing.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import influence
from influence.cli import main

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REPO_ROOT / "datasets" / "sample"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
DRIVER = shutil.which("chromedriver")


def headless_chromium():
    """A selenium driver of the system's headless Chromium, offline; skips the test without one."""
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,900", "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                           {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    return driver


@pytest.fixture(scope="module")
def browser():
    driver = headless_chromium()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "report.html"
    result = CliRunner().invoke(main, ["report", str(SAMPLE), "-o", str(out), "--top", "12", "-q"])
    assert result.exit_code == 0, result.stderr
    scores = influence.score(influence.load(SAMPLE))
    lists = {seg: influence.shortlist(scores, seg, 12) for seg in ("mass", "micro")}
    return out, scores, lists


RENDERED_POINTS = """
const svg = document.getElementById(arguments[0]).getBoundingClientRect();
const out = {};
for (const g of document.querySelectorAll('#map-svg g[id^="points-"], #map-svg g[id^="shortlist-"]')) {
  let n = 0;
  for (const u of g.querySelectorAll('use')) {
    const r = u.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.left >= svg.left - 1 && r.right <= svg.right + 1
        && r.top >= svg.top - 1 && r.bottom <= svg.bottom + 1) n += 1;
  }
  out[g.id] = n;
}
return out;
"""

TABLE_ROWS = """
const t = document.getElementById(arguments[0]);
const r = t.getBoundingClientRect();
return {width: r.width, height: r.height,
        rows: Array.from(t.querySelectorAll('tbody tr')).map(tr =>
          tr.getBoundingClientRect().height > 0 ? Array.from(tr.cells).map(c => c.innerText.trim()) : null)};
"""


def test_report_renders_offline_with_map_and_both_tables(browser, page):
    path, scores, lists = page
    browser.get(path.as_uri())
    assert browser.title.startswith("influence report")
    # nothing was fetched: no resource besides the page itself
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0

    rect = browser.execute_script(
        "const r = document.getElementById('map-svg').getBoundingClientRect(); return [r.width, r.height];")
    assert rect[0] > 500 and rect[1] > 300, rect
    drawn = browser.execute_script(RENDERED_POINTS, "map-svg")
    segment_counts = scores["segment"].value_counts()
    counts = dict(zip(segment_counts["segment"], segment_counts["count"]))
    shortlisted = {seg: lists[seg].height for seg in lists}
    assert drawn["shortlist-mass"] == shortlisted["mass"] and drawn["shortlist-micro"] == shortlisted["micro"]
    # the sample has 3,000 accounts: every one is a rendered point inside the map
    assert drawn["points-other"] == counts["other"]
    assert drawn["points-suspicious"] == counts["suspicious"]
    assert drawn["points-micro"] + shortlisted["micro"] == counts["micro"]
    assert sum(drawn.values()) == scores.height

    for seg, prefix in (("mass", "M"), ("micro", "m")):
        table = browser.execute_script(TABLE_ROWS, f"{seg}-shortlist")
        assert table["width"] > 300 and table["height"] > 20 * len(table["rows"])
        rows = table["rows"]
        assert None not in rows, "every row is laid out"
        assert [r[1] for r in rows] == [f"{prefix}{i}" for i in range(1, lists[seg].height + 1)]
        assert [r[3] for r in rows] == [str(i) for i in lists[seg]["id"]]
        assert [r[9] for r in rows] == [f"{s:.3f}" for s in lists[seg]["score"]]

    # the tags on the map are real text the browser laid out
    tag = browser.execute_script(
        "const t = document.getElementById('tag-m1'); const r = t.getBoundingClientRect();"
        "return [t.textContent.trim(), r.width, r.height];")
    assert tag[0] == "m1" and tag[1] > 3 and tag[2] > 3

    # and the pixels: the map shows the segments' colours
    from PIL import Image

    shot = Image.open(io.BytesIO(browser.find_element("id", "map-svg").screenshot_as_png)).convert("RGB")
    colours = {colour for _, colour in shot.getcolors(maxcolors=1 << 20)}

    def near(hex_colour, tolerance=12):
        target = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return any(all(abs(a - b) <= tolerance for a, b in zip(c, target)) for c in colours)

    from influence.report import SEGMENT_COLOURS

    for seg in ("mass", "micro", "suspicious"):
        assert near(SEGMENT_COLOURS[seg]), f"no {seg} colour on the rendered map"


def test_distribution_figure_renders(browser, page):
    path, _, _ = page
    browser.get(path.as_uri())
    bars = browser.execute_script(
        "return Array.from(document.querySelectorAll('#dist-svg g[id^=\"bought-\"]'))"
        ".map(g => [g.id, g.getBoundingClientRect().height]);")
    assert [b[0] for b in bars] == ["bought-mass", "bought-micro", "bought-suspicious", "bought-other"]
    assert all(h > 0 for _, h in bars)
    summary_rows = browser.execute_script(TABLE_ROWS, "segment-summary")["rows"]
    assert [r[0] for r in summary_rows] == ["mass", "micro", "suspicious", "other"]
