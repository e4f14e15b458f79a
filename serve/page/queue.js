// The label queue: GET /v1/suggestions (the server's pool, least sure first), one passage at a time, pre-filled
// with the model's answer; keys 1–9 tick frames, one row of letters per stance target; Enter saves and moves on.

import { getJsonLines } from "./api.js";
import { $, h, isTyping, replace, showMessage, showProblem } from "./dom.js";
import { chosenStance, frameColour, saveExample, stancePicker, uid } from "./labels.js";
import { on, state } from "./state.js";

const ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]; // stance target i: row i; label j: its key j; then "not labelled"
const queue = { items: [], at: 0, saved: 0, skipped: 0 };

export function init() {
  $("#queue-form").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  $("#queue-save").addEventListener("click", saveAndNext);
  $("#queue-skip").addEventListener("click", () => move(1, true));
  $("#queue-back").addEventListener("click", () => move(-1));
  document.addEventListener("keydown", shortcut);
  on("scheme", (scheme) => {
    renderShortcuts(scheme);
    if (queue.items.length) renderItem();
  });
}

async function load() {
  const area = $("#queue-message");
  const n = Math.max(1, Math.min(1000, Number($("#queue-n").value) || 20));
  showMessage(area, "Asking the model which passages it is least sure about…", "busy");
  try {
    const items = await getJsonLines(`/v1/suggestions?format=jsonl&n=${n}`);
    Object.assign(queue, { items, at: 0, saved: 0, skipped: 0 });
    if (!items.length) {
      showMessage(area, "Nothing to label: every passage of the pool is in the labelled store already.");
      $("#queue-card").hidden = true;
      return;
    }
    showMessage(area, `${items.length} passage${items.length === 1 ? "" : "s"} to label, least sure first.`);
    renderItem();
    $("#queue-card").hidden = false;
    $("#queue-position").focus();
  } catch (error) {
    $("#queue-card").hidden = true;
    showProblem(area, error, "No suggestions.");
  }
}

function current() {
  return queue.items[queue.at];
}

function renderItem() {
  const scheme = state.scheme;
  const item = current();
  if (!item) return finish();
  $("#queue-card").hidden = false;
  $("#queue-position").textContent = `Passage ${queue.at + 1} of ${queue.items.length}`;
  $("#queue-meta").textContent = [
    item.id ? `id ${item.id}` : null,
    item.uncertainty !== undefined ? `uncertainty ${item.uncertainty.toFixed(2)}` : null,
    item.model_version ? `model ${item.model_version}` : null,
    item.saved ? "saved" : null,
  ]
    .filter(Boolean)
    .join(" · ");
  $("#queue-text").textContent = item.text;
  const chosen = item.frames ?? item.model_frames ?? [];
  const boxes = scheme.frames.map((frame, i) => {
    const id = uid("q-frame");
    return h(
      "div",
      { class: `check ${frameColour(scheme, frame.name)}` },
      h("input", { type: "checkbox", id, value: frame.name, checked: chosen.includes(frame.name) }),
      h(
        "label",
        { for: id },
        i < 9 ? h("kbd", {}, String(i + 1)) : null,
        h("span", { class: "frame-name" }, frame.name),
        frame.description ? h("span", { class: "desc" }, frame.description) : null,
      ),
    );
  });
  replace(
    $("#queue-frames"),
    scheme.frames.length ? h("fieldset", { class: "frames-pick" }, h("legend", {}, "Frames"), boxes) : null,
  );
  const stance = item.stance ?? item.model_stance ?? {};
  const targets = Object.keys(item.model_stance || {}).length ? Object.keys(item.model_stance) : scheme.stance?.targets || [];
  replace(
    $("#queue-stance"),
    targets.map((target, i) => {
      const keys = [...(ROWS[i] || "")];
      const labels = scheme.stance?.labels || [];
      return stancePicker(scheme, target, {
        chosen: stance[target] ?? "",
        modelLabel: item.model_stance?.[target],
        keys: keys.slice(0, labels.length),
        skipKey: keys[labels.length] || null,
      });
    }),
  );
  $("#queue-back").disabled = queue.at === 0;
}

function answer() {
  const frames = [...document.querySelectorAll("#queue-frames input:checked")].map((box) => box.value);
  const stance = {};
  for (const picker of document.querySelectorAll("#queue-stance fieldset")) {
    const label = chosenStance(picker);
    if (label) stance[picker.dataset.target] = label;
  }
  return { frames, stance };
}

async function saveAndNext() {
  const item = current();
  if (!item) return;
  const area = $("#queue-message");
  const { frames, stance } = answer();
  showMessage(area, "Saving…", "busy");
  try {
    await saveExample({ id: item.id, text: item.text, frames, stance });
    Object.assign(item, { frames, stance, saved: true });
    queue.saved += 1;
    showMessage(area, `Saved passage ${queue.at + 1}${item.id ? ` (${item.id})` : ""}.`);
    move(1);
  } catch (error) {
    showProblem(area, error, "Not saved.");
  }
}

function move(step, skipping = false) {
  if (!queue.items.length) return;
  if (skipping) queue.skipped += 1;
  const item = current();
  if (item && !item.saved) Object.assign(item, answer()); // what was ticked stays when coming back
  queue.at = Math.max(0, Math.min(queue.items.length, queue.at + step));
  renderItem();
}

function finish() {
  $("#queue-card").hidden = true;
  const area = $("#queue-message");
  showMessage(
    area,
    `Done: ${queue.saved} saved, ${queue.items.length - queue.saved} not saved. Load suggestions again for more ` +
      "(passages already stored are not suggested again).",
  );
  $("#queue-form button").focus();
}

function shortcut(event) {
  if ($("#view-queue").hidden || $("#queue-card").hidden || isTyping(event) || $("#key-dialog").open) return;
  const key = event.key.toLowerCase();
  if (/^[1-9]$/.test(key)) {
    const box = document.querySelectorAll("#queue-frames input[type=checkbox]")[Number(key) - 1];
    if (box) {
      box.checked = !box.checked;
      box.focus();
      event.preventDefault();
    }
    return;
  }
  if (event.key === "Enter" && !event.target.closest?.("a, button, summary")) {
    event.preventDefault();
    saveAndNext();
    return;
  }
  if (event.key === "ArrowRight" && event.shiftKey) return move(1, true);
  if (event.key === "ArrowLeft" && event.shiftKey) return move(-1);
  ROWS.forEach((row, i) => {
    const picker = document.querySelectorAll("#queue-stance fieldset")[i];
    const at = row.indexOf(key);
    if (!picker || at < 0) return;
    const radio = picker.querySelectorAll("input[type=radio]")[at];
    if (radio) {
      radio.checked = true;
      radio.focus();
      event.preventDefault();
    }
  });
}

function renderShortcuts(scheme) {
  const labels = scheme.stance?.labels || [];
  const targets = scheme.stance?.targets || [];
  const rows = [
    scheme.frames.length ? [[`1–${Math.min(9, scheme.frames.length)}`], "tick or untick a frame (in the order listed)"] : null,
    ...targets.slice(0, ROWS.length).map((target, i) => [
      [...ROWS[i].slice(0, labels.length + 1)],
      `stance toward ${target}: ${[...labels, "not labelled"].join(", ")}`,
    ]),
    [["Enter"], "save and go to the next passage"],
    [["Shift+→"], "skip to the next passage without saving"],
    [["Shift+←"], "back to the previous passage"],
  ].filter(Boolean);
  replace(
    $("#queue-shortcuts"),
    rows.map(([keys, what]) => [h("dt", {}, keys.map((k, i) => [i ? " " : "", h("kbd", {}, k)])), h("dd", {}, what)]),
  );
}
