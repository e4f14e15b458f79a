// Opens a local HTML file in Debian's headless Chromium (driven by playwright-core), waits for it to load,
// saves a full-page screenshot, and prints JSON: the page title, its tables and each chart image as rendered.
// Usage: node screenshot.mjs REPORT.html SHOT.png   (CHROMIUM=/path/to/chromium to use another build)
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const [html, shot] = process.argv.slice(2);
if (!html || !shot) {
  console.error("usage: node screenshot.mjs REPORT.html SHOT.png");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(pathToFileURL(html).href, { waitUntil: "load" });
  const charts = await page.$$eval("img.chart", (images) =>
    images.map((img) => {
      const box = img.getBoundingClientRect();
      return {
        id: img.id,
        alt: img.alt,
        loaded: img.complete && img.naturalWidth > 0,
        naturalWidth: img.naturalWidth,
        naturalHeight: img.naturalHeight,
        width: box.width,
        height: box.height,
      };
    }),
  );
  const tables = await page.$$eval("table", (all) => all.map((t) => ({ id: t.id, rows: t.rows.length })));
  await page.screenshot({ path: shot, fullPage: true });
  console.log(JSON.stringify({ title: await page.title(), charts, tables }));
} finally {
  await browser.close();
}
