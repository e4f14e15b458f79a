// Labels of the served scheme (from GET /v1/scheme): their colours, the stance pickers, and saving a labelled
// passage with POST /v1/examples (validated by the server against the scheme; all or nothing).

import { call } from "./api.js";
import { h } from "./dom.js";

const FRAME_COLOURS = 10; // style.css defines .c0 … .c9
const STANCE_COLOURS = 4; // and .s0 … .s3

export const frameColour = (scheme, name) =>
  `c${Math.max(0, scheme.frames.findIndex((f) => f.name === name)) % FRAME_COLOURS}`;

export const stanceColour = (scheme, label) =>
  `s${Math.max(0, (scheme.stance?.labels || []).indexOf(label)) % STANCE_COLOURS}`;

export const describe = (scheme, name) => scheme.frames.find((f) => f.name === name)?.description || "";

let ids = 0;
export const uid = (prefix) => `${prefix}-${++ids}`;

/**
 * One fieldset per target: a radio per stance label (with its probability when `scores` is given) and
 * "not labelled". `keys[i]` is shown as the shortcut of label i, `skipKey` for "not labelled".
 */
export function stancePicker(scheme, target, { chosen = "", scores = null, modelLabel = null, keys = [], skipKey = null }) {
  const name = uid("stance");
  const labels = scheme.stance?.labels || [];
  const options = labels.map((label, i) => {
    const id = uid("st");
    const input = h("input", { type: "radio", name, id, value: label, checked: label === chosen });
    const probability = scores ? scores[label] : null;
    return h(
      "div",
      { class: `choice ${stanceColour(scheme, label)}` },
      input,
      h(
        "label",
        { for: id },
        keys[i] ? h("kbd", {}, keys[i]) : null,
        h("span", { class: "choice-name" }, label),
        probability !== null && probability !== undefined
          ? [
              h("span", { class: "mini-bar", "aria-hidden": "true" }, h("span", { class: "fill", dataset: { v: probability } })),
              h("span", { class: "num" }, probability.toFixed(2)),
            ]
          : null,
      ),
    );
  });
  const skipId = uid("st");
  options.push(
    h(
      "div",
      { class: "choice skip" },
      h("input", { type: "radio", name, id: skipId, value: "", checked: !chosen }),
      h("label", { for: skipId }, skipKey ? h("kbd", {}, skipKey) : null, h("span", { class: "choice-name" }, "not labelled")),
    ),
  );
  return h(
    "fieldset",
    { class: "stance", dataset: { target } },
    h(
      "legend",
      {},
      `Stance toward ${target}`,
      modelLabel ? h("span", { class: "model-says" }, ` model: ${modelLabel}`) : null,
    ),
    h("div", { class: "choices" }, options),
  );
}

/** The label chosen in a stance picker ("" for not labelled). */
export const chosenStance = (fieldset) => fieldset.querySelector("input:checked")?.value || "";

/** Store one labelled passage; resolves to the API's answer ({added, replaced, total}) or throws an ApiProblem. */
export async function saveExample({ id, text, frames, stance }) {
  const row = { text, frames, stance };
  if (id) row.id = id;
  const response = await call("POST", "/v1/examples", { json: [row], write: true });
  return response.json();
}

export function savedMessage(answer) {
  const what = answer.replaced ? "updated the stored labels of this passage" : "added it";
  return `Saved: ${what}. The store holds ${answer.total} labelled passage${answer.total === 1 ? "" : "s"}.`;
}
