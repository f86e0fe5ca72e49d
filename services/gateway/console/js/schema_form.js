// A form for a job type's options, generated from their JSON Schema (GET /v1/job-types):
// a new option in the contracts appears here with no change to the console.

import { h } from "./dom.js";

export class FormError extends Error {}

function resolve(schema, root) {
  if (schema && schema.$ref) {
    const name = schema.$ref.split("/").pop();
    return { ...(root.$defs || {})[name], ...schema, $ref: undefined };
  }
  return schema || {};
}

// {"anyOf": [X, {"type": "null"}]} is an optional X: the form leaves it empty.
function unwrap(schema, root) {
  const s = resolve(schema, root);
  if (Array.isArray(s.anyOf)) {
    const real = s.anyOf.filter((a) => a.type !== "null");
    if (real.length === 1) {
      return { ...resolve(real[0], root), nullable: true, default: s.default,
        description: s.description, title: s.title };
    }
  }
  return s;
}

function label(name, s) {
  return s.title || name.replace(/_/g, " ");
}

function hint(s) {
  const bits = [];
  if (s.description) bits.push(s.description);
  if (s.minimum !== undefined || s.maximum !== undefined) {
    bits.push(`${s.minimum ?? s.exclusiveMinimum ?? "…"}–${s.maximum ?? "…"}`);
  }
  return bits.join(" ");
}

function field(name, s, required, prefix) {
  const id = `${prefix}-${name}`;
  let input;
  let read;
  let write = (v) => { input.value = v === null || v === undefined ? "" : String(v); };
  const def = s.default;
  if (s.type === "boolean") {
    input = h("input", { type: "checkbox", id, checked: def === true });
    read = () => (input.checked === (def === true) ? undefined : input.checked);
    write = (v) => { input.checked = v === true; };
  } else if (Array.isArray(s.enum)) {
    input = h("select", { id },
      s.nullable || def === undefined ? h("option", { value: "" }, "(default)") : null,
      s.enum.map((v) => h("option", { value: String(v), selected: v === def }, String(v))));
    read = () => (input.value === "" || input.value === String(def) ? undefined : input.value);
  } else if (s.type === "integer" || s.type === "number") {
    input = h("input", { type: "number", id, step: s.type === "integer" ? "1" : "any",
      min: s.minimum, max: s.maximum, placeholder: def ?? "" });
    read = () => {
      if (input.value === "") return undefined;
      const n = Number(input.value);
      if (!Number.isFinite(n)) throw new FormError(`${name}: not a number`);
      return n;
    };
  } else if (s.type === "string") {
    const long = (s.maxLength || 0) > 300;
    input = long
      ? h("textarea", { id, rows: 3, placeholder: def ?? "" })
      : h("input", { type: "text", id, placeholder: def ?? "" });  // patterns: the API checks
    read = () => (input.value.trim() === "" ? undefined : input.value);
  } else {
    // Lists and objects (subtitle tracks, a style): JSON, checked by the API on submit.
    input = h("textarea", { id, rows: 2, class: "json",
      placeholder: def !== undefined ? JSON.stringify(def) : "JSON" });
    read = () => {
      if (input.value.trim() === "") return undefined;
      try { return JSON.parse(input.value); } catch {
        throw new FormError(`${name}: not valid JSON`);
      }
    };
    write = (v) => { input.value = v === undefined ? "" : JSON.stringify(v); };
  }
  input.dataset.option = name;
  if (required) input.required = true;
  const row = h("div", { class: `field${required ? " required" : ""}` },
    h("label", { for: id }, label(name, s)), input, h("small", {}, hint(s)));
  return { row, read, write, name, required };
}

/** The options form of one schema: { element, values(), write(values), required };
 * values() throws FormError; `prefix` keeps its field ids apart from other forms'. */
export function optionsForm(schema, prefix = "opt") {
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const fields = Object.entries(props).map(([name, p]) =>
    field(name, unwrap(p, schema), required.has(name), prefix));
  fields.sort((a, b) => Number(b.required) - Number(a.required));
  const element = h("div", { class: "options" }, fields.map((f) => f.row));
  function values() {
    const out = {};
    for (const f of fields) {
      const v = f.read();
      if (v !== undefined) out[f.name] = v;
      else if (f.required) throw new FormError(`${f.name} is required`);
    }
    return out;
  }
  function write(given) {
    for (const f of fields) if (given && f.name in given) f.write(given[f.name]);
  }
  return { element, values, write, required: fields.some((f) => f.required) };
}
