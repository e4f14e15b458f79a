// The archives view: score an archive in the background (POST /v1/jobs: an upload, or a path under the server's
// jobs root), follow it by polling GET /v1/jobs/{id} (progress, rate, time left, errors), then download the
// scores and open the trend report. The jobs started in this tab are remembered for the tab (sessionStorage).

import { call, getJson } from "./api.js";
import { $, clearMessage, duration, h, percent, replace, showMessage, showProblem } from "./dom.js";

const REMEMBERED = "framelens.jobs";
const FINAL = new Set(["done", "failed", "cancelled"]);
const cards = new Map(); // job id -> {card, samples}

export function init() {
  for (const radio of document.querySelectorAll("input[name=job-source]")) radio.addEventListener("change", sourceChanged);
  $("#job-form").addEventListener("submit", (event) => {
    event.preventDefault();
    start();
  });
  for (const id of remembered()) follow(id);
}

const remembered = () => JSON.parse(sessionStorage.getItem(REMEMBERED) || "[]");

function remember(id) {
  sessionStorage.setItem(REMEMBERED, JSON.stringify([id, ...remembered().filter((j) => j !== id)].slice(0, 20)));
}

function forget(id) {
  sessionStorage.setItem(REMEMBERED, JSON.stringify(remembered().filter((j) => j !== id)));
}

function sourceChanged() {
  const upload = $("input[name=job-source]:checked").value === "upload";
  $("#job-upload-field").hidden = !upload;
  $("#job-path-field").hidden = upload;
}

async function start() {
  const area = $("#job-message");
  const upload = $("input[name=job-source]:checked").value === "upload";
  const targets = $("#job-targets")
    .value.split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  const evidence = $("#job-evidence").checked;
  let request;
  if (upload) {
    const file = $("#job-file").files[0];
    if (!file) return showProblem(area, new Error("Choose an archive to upload first."));
    const form = new FormData();
    form.append("file", file);
    if (targets.length) form.append("targets", targets.join(","));
    form.append("evidence", String(evidence));
    request = { body: form };
  } else {
    const path = $("#job-path").value.trim();
    if (!path) return showProblem(area, new Error("Name the archive's path under the server's jobs root first."));
    request = { json: { path, evidence, ...(targets.length ? { targets } : {}) } };
  }
  showMessage(area, upload ? "Uploading…" : "Starting…", "busy");
  try {
    const job = await (await call("POST", "/v1/jobs", { ...request, write: true })).json();
    showMessage(area, `Scoring ${job.name}: it runs on the server, so you can leave this view and come back.`);
    remember(job.id);
    follow(job.id, job);
  } catch (error) {
    showProblem(area, error, "Not started.");
  }
}

async function follow(id, first = null) {
  if (cards.has(id)) return;
  const entry = { card: h("article", { class: "job card", dataset: { job: id } }), samples: [] };
  cards.set(id, entry);
  $("#job-list").prepend(entry.card);
  $("#job-list-empty").hidden = true;
  let job = first;
  for (;;) {
    if (!job) {
      try {
        job = await getJson(`/v1/jobs/${encodeURIComponent(id)}`);
      } catch (error) {
        if (error.status === 404) {
          forget(id);
          entry.card.remove();
          cards.delete(id);
          return;
        }
        showProblem(entry.card, error, "Cannot follow this job:");
        return;
      }
    }
    render(entry, job);
    if (FINAL.has(job.state)) return;
    await new Promise((resolve) => setTimeout(resolve, entry.samples.length < 5 ? 400 : 1000));
    job = null;
  }
}

/** Articles per second over the last samples (the job's own clock is the server's `updated`). */
function pace(entry, job) {
  const now = Date.now() / 1000;
  entry.samples.push([now, job.progress.done]);
  entry.samples = entry.samples.slice(-20);
  const [t0, d0] = entry.samples[0];
  const rate = now > t0 && job.progress.done > d0 ? (job.progress.done - d0) / (now - t0) : null;
  const left = rate && job.progress.total ? (job.progress.total - job.progress.done) / rate : null;
  return { rate, left };
}

function render(entry, job) {
  const { progress, counts } = job;
  const { rate, left } = job.state === "running" ? pace(entry, job) : { rate: null, left: null };
  const fraction = progress.fraction ?? (job.state === "done" ? 1 : null);
  const label = `job-${job.id}-title`;
  const bar = h("progress", { max: 1, "aria-labelledby": label });
  if (fraction !== null) bar.value = fraction;
  const total = progress.total ? ` of ${progress.total.toLocaleString()}` : "";
  const where = [
    `${progress.done.toLocaleString()}${total} records`,
    fraction !== null ? percent(fraction) : null,
    rate ? `${rate.toFixed(1)} records/s` : null,
    left !== null && job.state === "running" ? `about ${duration(left)} left` : null,
    FINAL.has(job.state) ? `${job.state === "done" ? "took" : "ran"} ${duration((Date.parse(job.updated) - Date.parse(job.created)) / 1000)}` : null,
  ].filter(Boolean);
  const done = job.state === "done";
  const results = `/v1/jobs/${encodeURIComponent(job.id)}/results`;
  const report = `/v1/jobs/${encodeURIComponent(job.id)}/report`;
  const stem = job.name.replace(/^.*\//, "").replace(/\.[^.]+$/, "") || "archive";
  const cancel = h("button", { type: "button", class: "quiet" }, FINAL.has(job.state) ? "Remove from the list" : "Cancel");
  cancel.addEventListener("click", () => stop(job, entry));
  replace(
    entry.card,
    h(
      "h3",
      { id: label },
      job.name,
      " ",
      h("span", { class: `state state-${job.state}` }, job.state),
    ),
    bar,
    h("p", { class: "progress-text", role: "status" }, where.join(" · ")),
    h(
      "p",
      { class: "meta" },
      `${counts.scored.toLocaleString()} scored · ${counts.errors.toLocaleString()} not scorable · ` +
        `${counts.windows.toLocaleString()} windows read · model ${job.model_version}`,
    ),
    job.message ? h("p", { class: job.state === "failed" ? "message error" : "meta" }, job.message) : null,
    job.errors.length
      ? h(
          "details",
          { class: "job-errors" },
          h("summary", {}, `${counts.errors} record${counts.errors === 1 ? "" : "s"} could not be scored`),
          h("ul", {}, job.errors.map((e) => h("li", {}, h("code", {}, e.where), ` ${e.reason}`))),
          counts.errors > job.errors.length ? h("p", { class: "meta" }, `The first ${job.errors.length} are listed.`) : null,
        )
      : null,
    h(
      "p",
      { class: "actions" },
      done ? h("a", { href: results, download: `${stem}-scores.jsonl`, class: "button" }, "Download the scores (JSON Lines)") : null,
      done ? h("a", { href: report, target: "_blank", rel: "noopener", class: "button primary" }, "Open the trend report") : null,
      cancel,
    ),
  );
}

async function stop(job, entry) {
  if (FINAL.has(job.state)) {
    forget(job.id);
    cards.delete(job.id);
    entry.card.remove();
    $("#job-list-empty").hidden = cards.size > 0;
    return;
  }
  try {
    render(entry, await (await call("DELETE", `/v1/jobs/${encodeURIComponent(job.id)}`, { write: true })).json());
    clearMessage($("#job-message"));
  } catch (error) {
    showProblem($("#job-message"), error, "Not cancelled.");
  }
}
