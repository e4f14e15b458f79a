// The text with its evidence sentences marked: each mark says (next to it, in words) which labels it drove.

import { h } from "./dom.js";

/** The API counts characters as Python does (code points); JavaScript strings count UTF-16 units. */
function unitOffsets(text) {
  if (!/[\uD800-\uDFFF]/.test(text)) return null;
  const offsets = [0];
  let units = 0;
  for (const ch of text) {
    units += ch.length;
    offsets.push(units);
  }
  return offsets;
}

/**
 * spans: [{start, end, key, name, colour, score}] (offsets in code points) -> pieces of the text in order,
 * each {text, spans: [the spans covering it]}. Overlapping sentences are cut where they overlap.
 */
export function pieces(text, spans) {
  const map = unitOffsets(text);
  const at = (i) => (map ? map[Math.min(i, map.length - 1)] : Math.min(i, text.length));
  const placed = spans
    .map((s) => ({ ...s, from: at(Math.max(0, s.start)), to: at(Math.max(0, s.end)) }))
    .filter((s) => s.to > s.from);
  const cuts = [...new Set([0, text.length, ...placed.flatMap((s) => [s.from, s.to])])].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [a, b] = [cuts[i], cuts[i + 1]];
    const covering = placed.filter((s) => s.from <= a && s.to >= b);
    const last = out[out.length - 1];
    if (last && !covering.length && !last.spans.length) last.text += text.slice(a, b);
    else out.push({ text: text.slice(a, b), spans: covering });
  }
  return out;
}

/** Fill `container` with the text; marks are focusable, and `onPick(spans)` runs when one is clicked or chosen. */
export function renderHighlighted(container, text, spans, onPick) {
  const nodes = [];
  for (const piece of pieces(text, spans)) {
    if (!piece.spans.length) {
      nodes.push(piece.text);
      continue;
    }
    const keys = [...new Set(piece.spans.map((s) => s.key))];
    // Frames before stance, each by how strongly this sentence drove it: the mark takes the first one's colour.
    const names = [...new Map(piece.spans.map((s) => [s.key, s])).values()].sort(
      (a, b) => Number(a.key.startsWith("s:")) - Number(b.key.startsWith("s:")) || b.score - a.score,
    );
    const mark = h(
      "mark",
      {
        class: `ev ${names[0].colour}`,
        tabindex: 0,
        role: "button",
        "aria-label": `${piece.text.trim()} (evidence for ${names.map((s) => s.name).join(", ")})`,
        dataset: { keys: keys.join(" ") },
      },
      piece.text,
    );
    const pick = () => onPick(piece.spans, mark);
    mark.addEventListener("click", pick);
    mark.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        pick();
      }
    });
    const tags = h(
      "span",
      { class: "tags", "aria-hidden": "true" },
      "\u2060", // a word joiner: the names never wrap away from their sentence's last word
      names.map((s) => h("span", { class: `tag ${s.colour}`, dataset: { key: s.key } }, s.name)),
    );
    nodes.push(mark, tags);
  }
  container.replaceChildren(...nodes.map((n) => (typeof n === "string" ? document.createTextNode(n) : n)));
}

/** Light up the marks (and their tags) that carry `key`; null puts every mark back. */
export function lightUp(container, key) {
  container.classList.toggle("focusing", Boolean(key));
  for (const mark of container.querySelectorAll("mark.ev")) {
    mark.classList.toggle("lit", Boolean(key) && mark.dataset.keys.split(" ").includes(key));
  }
  for (const tag of container.querySelectorAll(".tag")) tag.classList.toggle("lit", tag.dataset.key === key);
}
