// The models view: the versions of the registry (GET /v1/models) with their test figures and, for retrained ones,
// the gate's decision with each figure before and after; activate or roll back (POST /v1/models/{v}/activate);
// start a gated retrain (POST /v1/train) and follow its phase, progress and log (GET /v1/train/{id}).

import { call, getJson } from "./api.js";
import { $, clearMessage, fixed, h, replace, showMessage, showProblem } from "./dom.js";
import { set } from "./state.js";

let following = null;

export function init() {
  $("#train-form").addEventListener("submit", (event) => {
    event.preventDefault();
    startTraining();
  });
}

/** Reload the versions (and tell the other views which model is served now). */
export async function refreshModels() {
  const area = $("#models-message");
  try {
    const models = await getJson("/v1/models");
    set("model", models);
    render(models);
    clearMessage(area);
  } catch (error) {
    showProblem(area, error, "Cannot list the versions.");
  }
}

export async function loadLastTraining() {
  try {
    const { jobs } = await getJson("/v1/train");
    if (jobs.length) followTraining(jobs[0]);
  } catch {
    // the list is a convenience; the form still works
  }
}

const metricName = (key) =>
  key
    .replace(/_macro_f1/, " macro-F1")
    .replace(/_micro_f1/, " micro-F1")
    .replace(/\[(.+)\]$/, " ($1)")
    .replace(/_/g, " ");

function render(models) {
  $("#models-summary").textContent = models.served
    ? `Serving ${models.served}${models.backend ? ` (scored by ${models.backend})` : ""}. ` +
      (models.active === models.served ? "It is also the registry's active version, so a restart serves it too." : `The registry's active version is ${models.active || "none"}.`)
    : "No version is served yet.";
  const versions = [...models.versions].sort((a, b) => (b.created || "").localeCompare(a.created || ""));
  replace($("#version-list"), versions.length ? versions.map((v) => card(v, models)) : h("p", {}, "The registry holds no versions yet."));
}

function card(version, models) {
  const badges = [
    version.served ? h("span", { class: "badge served" }, "served") : null,
    version.active ? h("span", { class: "badge active" }, "active") : null,
    version.gate ? h("span", { class: `badge ${version.gate.promote ? "passed" : "refused"}` }, version.gate.promote ? "gate passed" : "gate refused") : null,
  ];
  const served = models.versions.find((v) => v.served);
  const older = served && (version.created || "") < (served.created || "");
  const activate = version.served
    ? null
    : h(
        "button",
        { type: "button", class: older ? "" : "primary", "aria-describedby": `version-${version.version}` },
        older ? "Roll back to this version" : "Activate",
      );
  activate?.addEventListener("click", () => activateVersion(version.version, activate));
  const title = `version-${version.version}`;
  return h(
    "article",
    { class: `version card${version.served ? " is-served" : ""}`, "aria-labelledby": title, dataset: { version: version.version } },
    h(
      "div",
      { class: "version-head" },
      h("h2", { id: title }, h("span", { class: "version-id" }, version.version), " ", badges),
      activate,
    ),
    h(
      "p",
      { class: "meta" },
      [
        version.created && `created ${version.created.replace("T", " ").replace("Z", " UTC")}`,
        version.scheme && `scheme ${version.scheme}`,
        version.encoder && `encoder ${version.encoder.replace(/^.*\//, "")}`,
      ]
        .filter(Boolean)
        .join(" · "),
    ),
    figures(version, served),
    version.gate ? gate(version.gate, version.version) : null,
  );
}

/** The test-split figures, each with its difference from the served version's. */
function figures(version, served) {
  const entries = Object.entries(version.metrics);
  if (!entries.length) return h("p", { class: "meta" }, "No test figures recorded.");
  const compare = served && !version.served ? served.metrics : null;
  return h(
    "dl",
    { class: "figures", "aria-label": "Test-split figures" },
    entries.map(([key, value]) => {
      const base = compare?.[key];
      const delta = base === undefined || base === null ? null : value - base;
      return h(
        "div",
        {},
        h("dt", {}, metricName(key)),
        h(
          "dd",
          {},
          fixed(value, 3),
          delta !== null && Math.abs(delta) >= 0.0005
            ? h("span", { class: "delta" }, ` ${delta > 0 ? "+" : "−"}${fixed(Math.abs(delta), 3)} vs served`)
            : null,
        ),
      );
    }),
  );
}

function gate(decision, version) {
  return h(
    "details",
    { class: "gate", open: !decision.promote },
    h(
      "summary",
      {},
      decision.promote ? "The gate promoted it" : "The gate kept it aside",
      decision.compared_with ? ` (compared with ${decision.compared_with})` : "",
    ),
    h("ul", { class: "reasons" }, decision.reasons.map((r) => h("li", {}, r))),
    decision.checks.length
      ? h(
          "div",
          { class: "table-scroll", tabindex: 0, role: "region", "aria-label": `The gate's checks of ${version}` },
          h(
            "table",
            { class: "checks" },
            h("caption", {}, "Each figure before (the active model) and after (this candidate), on the same test split"),
            h(
              "thead",
              {},
              h("tr", {}, ["figure", "before", "after", "change", "may fall", "result"].map((c) => h("th", { scope: "col" }, c))),
            ),
            h(
              "tbody",
              {},
              decision.checks.map((c) =>
                h(
                  "tr",
                  { class: c.ok ? "ok" : "failed" },
                  h("th", { scope: "row" }, c.metric),
                  h("td", {}, fixed(c.active, 3)),
                  h("td", {}, fixed(c.candidate, 3)),
                  h("td", {}, `${c.change >= 0 ? "+" : "−"}${fixed(Math.abs(c.change), 3)}`),
                  h("td", {}, fixed(c.allowed_drop, 3)),
                  h("td", {}, c.ok ? "✓ passed" : "✗ failed"),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}

async function activateVersion(version, button) {
  const area = $("#models-message");
  button.disabled = true;
  showMessage(area, `Loading ${version}… requests in flight finish on the old model.`, "busy");
  try {
    const answer = await (await call("POST", `/v1/models/${encodeURIComponent(version)}/activate`, { write: true })).json();
    await refreshModels();
    showMessage(area, `Now serving ${answer.served} (was ${answer.previous || "none"}).`);
    document.dispatchEvent(new CustomEvent("framelens:model-changed"));
  } catch (error) {
    button.disabled = false;
    showProblem(area, error, "Not activated.");
  }
}

async function startTraining() {
  const area = $("#train-message");
  const epochs = $("#train-epochs").value.trim();
  const body = { init_from: $("#train-init").value, promote: $("#train-promote").checked };
  if (epochs) body.epochs = Number(epochs);
  showMessage(area, "Starting the retrain…", "busy");
  try {
    const job = await (await call("POST", "/v1/train", { json: body, write: true })).json();
    clearMessage(area);
    followTraining(job);
  } catch (error) {
    showProblem(area, error, "Not started.");
  }
}

async function followTraining(first) {
  following = first.id;
  let job = first;
  for (;;) {
    renderTraining(job);
    if (job.state === "succeeded" || job.state === "failed") {
      if (job.state === "succeeded" && job.id === following && first !== job) await refreshModels(); // a new version
      if (job.result?.promoted && first !== job) document.dispatchEvent(new CustomEvent("framelens:model-changed"));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (following !== first.id) return;
    try {
      job = await getJson(`/v1/train/${encodeURIComponent(first.id)}`);
    } catch (error) {
      showProblem($("#train-message"), error, "Cannot follow the retrain:");
      return;
    }
  }
}

function renderTraining(job) {
  const bar = h("progress", { max: 1, "aria-labelledby": "train-job-title" });
  bar.value = job.progress;
  const result = job.result;
  replace(
    $("#train-job"),
    h("h3", { id: "train-job-title" }, `Retrain ${job.id} `, h("span", { class: `state state-${job.state}` }, job.state)),
    bar,
    h("p", { class: "progress-text", role: "status" }, `phase: ${job.phase} · ${Math.round(100 * job.progress)}%`),
    job.error ? h("p", { class: "message error" }, job.error) : null,
    result
      ? h(
          "div",
          { class: "train-result" },
          h(
            "p",
            {},
            `Candidate ${result.version}: `,
            h("strong", {}, result.promoted ? "promoted and now active" : "kept in the registry, not active"),
            result.gate?.reasons?.length ? ", because:" : ".",
          ),
          result.gate?.reasons?.length ? h("ul", { class: "reasons" }, result.gate.reasons.map((r) => h("li", {}, r))) : null,
        )
      : null,
    job.log_tail
      ? h("details", { class: "log", open: job.state === "running" || job.state === "queued" }, h("summary", {}, "Training log (last lines)"), h("pre", { tabindex: 0 }, job.log_tail))
      : null,
  );
  $("#train-job").hidden = false;
}
