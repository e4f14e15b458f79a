// Drives the framelens page (served at / by a running server) in Debian's headless Chromium with playwright-core,
// for tests/serve/page/test_page_browser.py. One scenario per run; it prints one JSON object: what it saw, axe-core's
// violations on each view it showed (axe.min.js is injected here, never served to users), the page's CSP violations
// and script errors. Screenshots of each view at 1366x768 and 390x844 go to PAGE_SHOTS.
//
// Usage: node page_checks.mjs SCENARIO
//   env PAGE_URL (the server), PAGE_SHOTS (a folder), PAGE_KEY (the API key), PAGE_TEXT (a passage),
//   PAGE_LABELS (JSON {frames, stance} to save), PAGE_ARCHIVE (a file to upload), PAGE_VERSION (one to activate),
//   PAGE_PRESET_KEY=1 (start with the key in sessionStorage), CHROMIUM (the browser binary)
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const SIZES = [
  [1366, 768],
  [390, 844],
];
const env = process.env;
const URL_ = env.PAGE_URL || "http://127.0.0.1:8000";
const SHOTS = env.PAGE_SHOTS || ".";
mkdirSync(SHOTS, { recursive: true });

const seen = { axe: {}, shots: [], csp: [], errors: [], overflow: [] };

async function open(browser, { presetKey = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  if (presetKey) await context.addInitScript((key) => sessionStorage.setItem("framelens.apiKey", key), env.PAGE_KEY);
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      (window.__csp ||= []).push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
    );
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => seen.errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error" && !/status of 40[139]/.test(message.text())) seen.errors.push(message.text());
  });
  await page.goto(URL_ + "/", { waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
  return { context, page };
}

/** A screenshot of the page as it is now at both sizes (name-1366x768.png, …), and axe-core on it at each unless
 * `audit` is false (a state of a view already audited, such as the same dialog with another message). */
async function look(page, name, { audit = true } = {}) {
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(120);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (wide > 0) seen.overflow.push(`${name}@${width}: ${wide}px wider than the screen`);
    const file = join(SHOTS, `${name}-${width}x${height}.png`);
    await page.screenshot({ path: file });
    seen.shots.push(file);
    if (!audit) continue;
    if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
    const result = await page.evaluate(() => axe.run(document, { resultTypes: ["violations"] }));
    seen.axe[`${name}@${width}`] = result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
    }));
  }
  await page.setViewportSize({ width: 1366, height: 768 });
  seen.csp.push(...((await page.evaluate(() => window.__csp || [])) || []));
}

async function classify(page, text) {
  await page.fill("#text", text);
  await page.click("#classify-form button[type=submit]");
  await page.waitForSelector("#highlighted mark.ev", { timeout: 20000 });
}

const frameRows = (page) =>
  page.$$eval("#frame-list li", (rows) =>
    rows.map((r) => ({
      name: r.querySelector(".frame-name").textContent,
      predicted: r.classList.contains("predicted"),
      ticked: r.querySelector("input").checked,
      shown: r.querySelector(".num").textContent.trim(),
    })),
  );

const scenarios = {
  async classify(browser) {
    const { page } = await open(browser);
    await look(page, "classify-empty");
    await classify(page, env.PAGE_TEXT);
    const frames = await frameRows(page);
    const marks = await page.$$eval("#highlighted mark.ev", (all) =>
      all.map((m) => ({ text: m.textContent, keys: m.dataset.keys, background: getComputedStyle(m).backgroundColor })),
    );
    const tags = await page.$$eval("#highlighted .tag", (all) => all.map((t) => t.textContent));
    const stance = await page.$$eval("#stance-list fieldset", (all) =>
      all.map((f) => ({
        target: f.dataset.target,
        legend: f.querySelector("legend").textContent,
        chosen: f.querySelector("input:checked")?.value,
        shown: [...f.querySelectorAll(".num")].map((n) => n.textContent),
      })),
    );
    const first = frames.find((f) => f.predicted);
    await page.hover(`#frame-list li.predicted >> nth=0`);
    const lit = await page.$$eval("#highlighted mark.ev.lit", (all) => all.map((m) => m.dataset.keys));
    const dimmed = await page.$$eval("#highlighted mark.ev:not(.lit)", (all) => all.length);
    await page.mouse.move(0, 0);
    await page.click("#highlighted mark.ev >> nth=0");
    const sentence = (await page.textContent("#sentence-info")).trim();
    const windows = await page.textContent("#windows-note");
    await page.click("#thresholds summary");
    await look(page, "classify");
    const slider = page.locator(".slider-row", { has: page.locator(`label:text-is("${first.name}")`) }).locator("input");
    const answered = page.waitForResponse(
      (r) => r.url().endsWith("/v1/classify") && (r.request().postData() || "").includes('"thresholds"'),
    );
    await slider.fill("0.99");
    const response = await answered;
    const sent = JSON.parse(response.request().postData());
    await page.waitForFunction(
      (name) => ![...document.querySelectorAll("#frame-list li.predicted .frame-name")].some((n) => n.textContent === name),
      first.name,
    );
    const after = await frameRows(page);
    await page.click("#edit-text");
    await page.fill("#text", env.PAGE_LONG_TEXT);
    await page.keyboard.press("Control+Enter");
    await page.waitForFunction(() => /windows/.test(document.querySelector("#windows-note").textContent));
    const long = { windows: await page.textContent("#windows-note"), marks: await page.$$eval("#highlighted mark.ev", (m) => m.length) };
    await look(page, "classify-long");
    return { frames, marks, tags, stance, first: first.name, lit, dimmed, sentence, windows, sent, after, long };
  },

  async correct(browser) {
    const { page } = await open(browser);
    await classify(page, env.PAGE_TEXT);
    const want = JSON.parse(env.PAGE_LABELS);
    for (const row of await page.$$("#frame-list li")) {
      const name = await row.$eval(".frame-name", (n) => n.textContent);
      await (await row.$("input")).setChecked(want.frames.includes(name));
    }
    for (const [target, label] of Object.entries(want.stance)) {
      await page.check(`#stance-list fieldset[data-target="${target}"] input[value="${label}"]`);
    }
    await page.click("#save-example");
    await page.waitForSelector("#key-dialog[open]");
    const prompt = await page.textContent("#key-message");
    await look(page, "key-prompt");
    await page.fill("#key-input", env.PAGE_KEY);
    await page.click("#key-form button[type=submit]");
    await page.waitForSelector("#save-message.ok");
    await page.mouse.move(0, 0);
    await look(page, "classify-saved", { audit: false });
    const keyState = await page.textContent("#key-state");
    return { prompt, saved: await page.textContent("#save-message"), keyState };
  },

  async queue(browser) {
    const { page } = await open(browser, { presetKey: true });
    await page.click('nav.views a[data-view="queue"]');
    await look(page, "queue-empty");
    await page.fill("#queue-n", "2");
    await page.click("#queue-form button[type=submit]");
    await page.waitForSelector("#queue-card:not([hidden])");
    const walked = [];
    const state = () =>
      page.evaluate(() => ({
        position: document.querySelector("#queue-position").textContent,
        text: document.querySelector("#queue-text").textContent,
        meta: document.querySelector("#queue-meta").textContent,
        frames: [...document.querySelectorAll("#queue-frames input:checked")].map((b) => b.value),
        stance: Object.fromEntries(
          [...document.querySelectorAll("#queue-stance fieldset")].map((f) => [
            f.dataset.target,
            f.querySelector("input:checked")?.value || "",
          ]),
        ),
      }));
    for (const keys of [["1", "q"], ["2", "s"]]) {
      const before = await state();
      if (!walked.length) await look(page, "queue");
      for (const key of keys) await page.keyboard.press(key);
      const after = await state();
      const saved = page.waitForResponse((r) => r.url().endsWith("/v1/examples") && r.request().method() === "POST");
      await page.keyboard.press("Enter");
      walked.push({ before, after, status: (await saved).status() });
      await page.waitForFunction((p) => document.querySelector("#queue-position").textContent !== p || document.querySelector("#queue-card").hidden, before.position);
    }
    await page.waitForSelector("#queue-card[hidden]", { state: "attached" });
    const done = await page.textContent("#queue-message");
    const shortcuts = await page.$$eval("#queue-shortcuts dt", (all) => all.map((d) => d.textContent));
    return { walked, done, shortcuts };
  },

  async archive(browser) {
    const { context, page } = await open(browser, { presetKey: true });
    await page.click('nav.views a[data-view="archives"]');
    await look(page, "archives-empty");
    await page.setInputFiles("#job-file", env.PAGE_ARCHIVE);
    await page.click("#job-form button[type=submit]");
    await page.waitForSelector(".job");
    const progress = new Set();
    const deadline = Date.now() + 60000;
    while (!(await page.$(".job .state-done"))) {
      if (Date.now() > deadline || (await page.$(".job .state-failed"))) break;
      progress.add(await page.textContent(".job .progress-text"));
      await page.waitForTimeout(100);
    }
    const job = await page.$eval(".job", (card) => ({
      id: card.dataset.job,
      state: card.querySelector(".state").textContent,
      bar: card.querySelector("progress").value,
      text: card.querySelector(".progress-text").textContent,
      meta: card.querySelector(".meta").textContent,
      links: [...card.querySelectorAll("a")].map((a) => ({ text: a.textContent, href: a.getAttribute("href") })),
      errors: [...card.querySelectorAll(".job-errors li")].map((li) => li.textContent),
    }));
    await look(page, "archives");
    const [report] = await Promise.all([context.waitForEvent("page"), page.click(".job a.primary")]);
    await report.waitForLoadState("load");
    await report.waitForFunction(() => [...document.images].every((img) => img.complete));
    const charts = await report.$$eval("img.chart", (all) =>
      all.map((img) => ({ id: img.id, naturalWidth: img.naturalWidth, width: img.getBoundingClientRect().width })),
    );
    await report.setViewportSize({ width: 1366, height: 768 });
    const shot = join(SHOTS, "report-1366x768.png");
    await report.screenshot({ path: shot });
    seen.shots.push(shot);
    return { progress: [...progress], job, charts, reportTitle: await report.title(), reportUrl: report.url() };
  },

  async models(browser) {
    const { page } = await open(browser, { presetKey: true });
    await page.click('nav.views a[data-view="models"]');
    await page.waitForSelector(".version");
    const before = await page.textContent("#model-status");
    const gate = await page.$$eval(".checks tbody tr", (rows) => rows.map((r) => r.textContent));
    await look(page, "models");
    await page.click(`.version[data-version="${env.PAGE_VERSION}"] button`);
    await page.waitForSelector(`.version[data-version="${env.PAGE_VERSION}"] .badge.served`);
    await page.waitForFunction((v) => document.querySelector("#model-status").textContent.includes(v), env.PAGE_VERSION);
    const after = await page.textContent("#model-status");
    const message = await page.textContent("#models-message");
    await look(page, "models-activated");
    return { before, after, message, gate };
  },

  async retrain(browser) {
    const { page } = await open(browser, { presetKey: true });
    await page.click('nav.views a[data-view="models"]');
    await page.waitForSelector(".version");
    await page.fill("#train-epochs", "1");
    await page.click("#train-form button[type=submit]");
    await page.waitForSelector("#train-job .state");
    const phases = new Set();
    const deadline = Date.now() + 150000;
    while (!(await page.$("#train-job .state-succeeded, #train-job .state-failed")) && Date.now() < deadline) {
      phases.add(await page.textContent("#train-job .progress-text"));
      await page.waitForTimeout(200);
    }
    await page.waitForTimeout(500);
    const job = await page.$eval("#train-job", (el) => ({
      state: el.querySelector(".state").textContent,
      text: el.textContent,
      log: el.querySelector("pre")?.textContent || "",
    }));
    await look(page, "models-retrained");
    return { phases: [...phases], job, versions: await page.$$eval(".version", (all) => all.length) };
  },

  async nokey(browser) {
    const { page } = await open(browser);
    await classify(page, env.PAGE_TEXT);
    await page.click("#save-example");
    await page.waitForSelector("#key-dialog[open]");
    const prompt = await page.textContent("#key-message");
    await page.click("#key-cancel");
    await page.waitForSelector("#save-message.error");
    const refused = await page.textContent("#save-message");
    await page.click("#save-example");
    await page.waitForSelector("#key-dialog[open]");
    await page.fill("#key-input", "not-the-key");
    await page.click("#key-form button[type=submit]");
    await page.waitForFunction(() => /not accepted/.test(document.querySelector("#key-message").textContent));
    await page.waitForSelector("#key-dialog[open]");
    const wrong = await page.textContent("#key-message");
    await look(page, "key-refused");
    await page.click("#key-cancel");
    await page.waitForSelector("#save-message.error");
    return { prompt, refused, wrong, after: await page.textContent("#save-message"), keyState: await page.textContent("#key-state") };
  },
};

const name = process.argv[2];
if (!scenarios[name]) {
  console.error(`usage: node page_checks.mjs ${Object.keys(scenarios).join("|")}`);
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});
try {
  const result = await scenarios[name](browser);
  console.log(JSON.stringify({ ...seen, result }));
} catch (error) {
  console.log(JSON.stringify({ ...seen, failed: String(error.stack || error) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
