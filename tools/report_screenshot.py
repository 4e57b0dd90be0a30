"""Make docs/report.png: the report of the bundled sample, as headless Chromium shows it.

    python tools/report_screenshot.py [--out docs/report.png] [--height 1000]

Needs the report extra (matplotlib), selenium, and Chromium with its driver (Debian:
``apt-get install chromium chromium-driver``). The page is opened with the network switched off,
as tests/test_report_browser.py does; the top of the page (the map and the start of the mass
shortlist) is kept, reduced to a 256-colour palette to stay small.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "docs" / "report.png"))
    parser.add_argument("--input", default="datasets/sample", help="relative to the repository root")
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--height", type=int, default=1000)
    args = parser.parse_args()

    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        sys.exit("Error: headless Chromium is not installed (Debian: apt-get install chromium chromium-driver)")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        subprocess.run([sys.executable, "-m", "influence", "report", args.input, "-o", str(page),
                        "--top", "10", "--no-timings", "-q"], check=True, cwd=REPO_ROOT)
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={args.width},{args.height}", "--force-device-scale-factor=1"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                                   {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
            driver.get(page.as_uri())
            png = driver.get_screenshot_as_png()
        finally:
            driver.quit()
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    image.save(args.out, optimize=True)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e3:.0f} kB, {image.width}x{image.height})")


if __name__ == "__main__":
    main()
