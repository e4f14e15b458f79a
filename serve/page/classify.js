// The classify view: a passage or article in, each frame's calibrated score against its threshold, stance per
// target, the evidence sentences marked in the text; thresholds adjustable for the call; corrections saved.

import { call } from "./api.js";
import { $, applyFractions, clearMessage, fixed, h, replace, showMessage, showProblem } from "./dom.js";
import { lightUp, renderHighlighted } from "./highlight.js";
import { chosenStance, frameColour, saveExample, savedMessage, stanceColour, stancePicker, uid } from "./labels.js";
import { on, state } from "./state.js";

const view = {
  text: "",
  targets: null, // null: the scheme's own
  result: null,
  overrides: {}, // frame -> threshold for this call, where it differs from the model's
  ticks: new Map(), // frame -> ticked, where the reader changed the model's answer
  stance: new Map(), // target -> chosen label ("" = not labelled), where the reader changed it
  asked: 0, // answers to older requests are dropped
  timer: 0,
  picked: null,
};

export function init() {
  $("#classify-form").addEventListener("submit", (event) => {
    event.preventDefault();
    classifyNew();
  });
  $("#edit-text").addEventListener("click", () => showEditor(true));
  $("#text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      classifyNew();
    }
  });
  $("#text-file").addEventListener("change", (event) => readFile(event.target.files[0]));
  const zone = $("#text-drop");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    readFile(event.dataTransfer.files[0]);
  });
  $("#save-example").addEventListener("click", save);
  $("#thresholds-reset").addEventListener("click", () => {
    view.overrides = {};
    renderSliders(state.scheme);
    changed();
  });
  on("scheme", (scheme) => {
    const known = new Set(scheme.frames.map((f) => f.name));
    view.overrides = Object.fromEntries(Object.entries(view.overrides).filter(([name]) => known.has(name)));
    $("#targets").value = (scheme.stance?.targets || []).join(", ");
    $("#targets-field").hidden = !scheme.stance;
    renderSliders(scheme);
    if (view.result) run();
  });
}

async function readFile(file) {
  if (!file) return;
  const area = $("#classify-message");
  if (!/\.(txt|md|markdown|text)$/i.test(file.name) && !file.type.startsWith("text/")) {
    showProblem(area, new Error(`${file.name} is not a text file: drop or open a .txt or .md file.`));
    return;
  }
  $("#text").value = await file.text();
  showMessage(area, `Read ${file.name} (${$("#text").value.length.toLocaleString()} characters).`);
  classifyNew();
}

function classifyNew() {
  const text = $("#text").value;
  if (!text.trim()) {
    showProblem($("#classify-message"), new Error("The text is empty: paste a passage or an article first."));
    $("#text").focus();
    return;
  }
  const targets = $("#targets")
    .value.split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  Object.assign(view, { text, targets: targets.length ? targets : null, ticks: new Map(), stance: new Map() });
  clearMessage($("#save-message"));
  run();
}

async function run() {
  const asked = ++view.asked;
  const area = $("#classify-message");
  const body = { text: view.text };
  if (view.targets && state.scheme?.stance) body.targets = view.targets;
  if (Object.keys(view.overrides).length) body.thresholds = view.overrides;
  showMessage(area, "Classifying…", "busy");
  try {
    const answer = await (await call("POST", "/v1/classify", { json: body })).json();
    if (asked !== view.asked) return;
    view.result = answer.results[0];
    clearMessage(area);
    render();
  } catch (error) {
    if (asked === view.asked) showProblem(area, error, "Not classified.");
  }
}

/** A threshold moved: show it at once, and ask the model again once the slider rests. */
function changed() {
  if (!view.result) return;
  renderFrames();
  clearTimeout(view.timer);
  view.timer = setTimeout(run, 250);
}

const thresholdOf = (name) => view.overrides[name] ?? state.scheme.frames.find((f) => f.name === name)?.threshold ?? 0.5;
const ticked = (frame) => view.ticks.get(frame.label) ?? frame.score >= thresholdOf(frame.label);

function showEditor(editing) {
  $("#classify-form").hidden = !editing;
  $("#reading").hidden = editing;
  if (editing) $("#text").focus();
}

function render() {
  const result = view.result;
  showEditor(false);
  $("#classify-result").hidden = false;
  $("#classify-intro").hidden = true;
  const windows = result.windows;
  $("#windows-note").textContent =
    windows > 1
      ? `A long text: read in ${windows} overlapping windows; the scores and evidence combine them all.`
      : "Read in one window.";
  $("#answered-by").textContent = `Answered by model ${result.model_version}.`;
  renderFrames();
  renderStance();
  renderText();
}

function renderFrames() {
  const scheme = state.scheme;
  const frames = [...view.result.frames].sort(
    (a, b) => Number(b.score >= thresholdOf(b.label)) - Number(a.score >= thresholdOf(a.label)) || b.score - a.score,
  );
  $("#frames-block").hidden = !frames.length;
  const rows = frames.map((frame) => {
    const threshold = thresholdOf(frame.label);
    const predicted = frame.score >= threshold;
    const id = uid("frame");
    const box = h("input", { type: "checkbox", id, checked: ticked(frame), "aria-describedby": `${id}-score` });
    box.addEventListener("change", () => view.ticks.set(frame.label, box.checked));
    const row = h(
      "li",
      { class: `frame-row ${frameColour(scheme, frame.label)}${predicted ? " predicted" : ""}` },
      box,
      h("label", { for: id, class: "frame-name", title: describe(frame.label) }, frame.label),
      h("span", { class: "bar", "aria-hidden": "true", dataset: { v: frame.score, t: threshold } },
        h("span", { class: "fill" }),
        h("span", { class: "thr" }),
      ),
      h(
        "span",
        { class: "num", id: `${id}-score` },
        h("span", { class: "verdict" }, predicted ? "yes" : "no"),
        ` ${fixed(frame.score)} `,
        h("span", { class: "thr-num" }, `${predicted ? "≥" : "<"} ${fixed(threshold)}`),
      ),
    );
    hoverLights(row, `f:${frame.label}`);
    return row;
  });
  replace($("#frame-list"), rows);
  applyFractions($("#frame-list"));
  renderVerdict(frames.filter((f) => f.score >= thresholdOf(f.label)).map((f) => f.label));
}

/** One line to read at a glance: the predicted frames and the stance toward each target. */
function renderVerdict(predicted) {
  const stance = Object.entries(view.result.stance).map(([target, answer]) => `${target} ${answer.label}`);
  replace(
    $("#verdict"),
    state.scheme.frames.length ? [h("strong", {}, "Frames: "), predicted.length ? predicted.join(", ") : "none"] : null,
    state.scheme.frames.length && stance.length ? " · " : null,
    stance.length ? [h("strong", {}, "Stance: "), stance.join(", ")] : null,
  );
}

const describe = (name) => state.scheme.frames.find((f) => f.name === name)?.description || "";

function renderStance() {
  const scheme = state.scheme;
  const targets = Object.entries(view.result.stance);
  $("#stance-block").hidden = !targets.length;
  const pickers = targets.map(([target, answer]) => {
    const picker = stancePicker(scheme, target, {
      chosen: view.stance.get(target) ?? answer.label,
      scores: answer.scores,
      modelLabel: answer.label,
    });
    picker.addEventListener("change", () => view.stance.set(target, chosenStance(picker)));
    hoverLights(picker, `s:${target}`);
    return picker;
  });
  replace($("#stance-list"), pickers);
  applyFractions($("#stance-list"));
}

function hoverLights(el, key) {
  const on = () => lightUp($("#highlighted"), key);
  const off = () => lightUp($("#highlighted"), null);
  el.addEventListener("mouseenter", on);
  el.addEventListener("focusin", on);
  el.addEventListener("mouseleave", off);
  el.addEventListener("focusout", off);
}

function renderText() {
  const scheme = state.scheme;
  const spans = [];
  for (const frame of [...view.result.frames].sort((a, b) => b.score - a.score)) {
    if (!frame.predicted) continue;
    for (const e of frame.evidence) {
      spans.push({ ...e, key: `f:${frame.label}`, name: frame.label, colour: frameColour(scheme, frame.label) });
    }
  }
  for (const [target, answer] of Object.entries(view.result.stance)) {
    for (const e of answer.evidence) {
      const name = `${target}: ${answer.label}`;
      spans.push({ ...e, key: `s:${target}`, name, colour: stanceColour(scheme, answer.label) });
    }
  }
  $("#no-evidence").hidden = spans.length > 0;
  renderHighlighted($("#highlighted"), view.text, spans, showSentence);
  replace($("#sentence-info"));
}

function showSentence(spans, mark) {
  for (const other of document.querySelectorAll("#highlighted mark.picked")) other.classList.remove("picked");
  mark.classList.add("picked");
  const drove = [...new Map(spans.map((s) => [s.key, s])).values()];
  replace(
    $("#sentence-info"),
    h("h3", {}, "This sentence drove"),
    h("blockquote", {}, mark.textContent.trim()),
    h(
      "ul",
      { class: "drove" },
      drove.map((s) =>
        h("li", {}, h("span", { class: `tag ${s.colour}` }, s.name), ` sentence score ${fixed(s.score)}`),
      ),
    ),
  );
}

function renderSliders(scheme) {
  $("#thresholds").hidden = !scheme.frames.length;
  const rows = scheme.frames.map((frame) => {
    const id = uid("thr");
    const value = view.overrides[frame.name] ?? frame.threshold;
    const output = h("output", { for: id }, fixed(value));
    const slider = h("input", {
      type: "range",
      id,
      min: 0,
      max: 1,
      step: 0.01,
      value,
      "aria-describedby": `${id}-desc`,
    });
    slider.addEventListener("input", () => {
      const chosen = Number(slider.value);
      if (Math.abs(chosen - frame.threshold) < 0.005) delete view.overrides[frame.name];
      else view.overrides[frame.name] = chosen;
      output.textContent = fixed(chosen);
      changed();
    });
    return h(
      "div",
      { class: "slider-row" },
      h("label", { for: id }, frame.name),
      slider,
      output,
      h("p", { class: "desc", id: `${id}-desc` }, frame.description || "", ` (the model's threshold: ${fixed(frame.threshold)})`),
    );
  });
  replace($("#threshold-sliders"), rows);
}

async function save() {
  const area = $("#save-message");
  if (!view.result) return;
  const frames = view.result.frames.filter(ticked).map((f) => f.label);
  const stance = {};
  for (const picker of document.querySelectorAll("#stance-list fieldset")) {
    const label = chosenStance(picker);
    if (label) stance[picker.dataset.target] = label;
  }
  showMessage(area, "Saving…", "busy");
  try {
    showMessage(area, savedMessage(await saveExample({ text: view.text, frames, stance })));
  } catch (error) {
    showProblem(area, error, "Not saved.");
  }
}
