// The framelens page: four views (classify, label queue, archives, models) over the HTTP API of the same server.
// The labels shown are the served model's own (GET /v1/scheme), so a user's scheme shows its frames and targets.

import { ApiProblem, getJson, onKeyChange, setKey, storedKey } from "./api.js";
import * as classify from "./classify.js";
import { $, $$ } from "./dom.js";
import * as jobs from "./jobs.js";
import * as models from "./models.js";
import * as queue from "./queue.js";
import { on, set, state } from "./state.js";

const VIEWS = ["classify", "queue", "archives", "models"];

function show(view, moveFocus) {
  const chosen = VIEWS.includes(view) ? view : "classify";
  for (const name of VIEWS) $(`#view-${name}`).hidden = name !== chosen;
  for (const link of $$("nav.views a")) {
    if (link.dataset.view === chosen) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${$(`#view-${chosen} .view-title`).textContent} · framelens`;
  if (chosen === "models") models.refreshModels();
  if (moveFocus) $(`#view-${chosen} .view-title`).focus();
}

function keyStatus(hasKey) {
  $("#key-state").textContent = hasKey ? "API key set for this tab" : "No API key yet: asked for when needed";
  $("#key-forget").hidden = !hasKey;
}

/** The scheme of the served model; while the model loads (503) the header says so and it tries again. */
async function loadScheme() {
  const status = $("#model-status");
  for (let attempt = 0; ; attempt++) {
    try {
      const scheme = await getJson("/v1/scheme");
      set("scheme", scheme);
      document.body.classList.remove("waiting");
      return;
    } catch (error) {
      if (error instanceof ApiProblem && (error.status === 401 || error.status === 403)) {
        // Reading needs a key here and none was given: ask again only when the reader wants to.
        const again = Object.assign(document.createElement("button"), { type: "button", textContent: "Enter an API key" });
        again.addEventListener("click", () => loadScheme(), { once: true });
        status.replaceChildren(`${error.message} `, again);
        status.className = "model-status problem";
        return;
      }
      const loading = error instanceof ApiProblem && error.status === 503;
      status.textContent = loading ? `The model is loading… (${error.message})` : `No model: ${error.message}`;
      status.className = "model-status problem";
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 1000 + 500 * attempt)));
    }
  }
}

function describeModel() {
  const scheme = state.scheme;
  if (!scheme) return;
  const served = state.model;
  const status = $("#model-status");
  status.replaceChildren(
    "Model ",
    Object.assign(document.createElement("strong"), { textContent: scheme.model_version }),
    ` · scheme ${scheme.name}${served?.backend ? ` · ${served.backend}` : ""}`,
  );
  status.className = "model-status";
}

async function boot() {
  classify.init();
  queue.init();
  jobs.init();
  models.init();
  keyStatus(Boolean(storedKey()));
  onKeyChange(keyStatus);
  $("#key-forget").addEventListener("click", () => setKey(null));
  window.addEventListener("hashchange", () => show(location.hash.slice(1), true));
  show(location.hash.slice(1), false);
  on("scheme", describeModel);
  on("model", describeModel);
  document.addEventListener("framelens:model-changed", () => loadScheme());
  await loadScheme();
  document.body.dataset.ready = "true";
  models.loadLastTraining();
  if (location.hash !== "#models") {
    getJson("/v1/models")
      .then((answer) => set("model", answer))
      .catch(() => {});
  }
}

boot();
