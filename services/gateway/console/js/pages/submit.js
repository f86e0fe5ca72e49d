// Submit: drop files (several make a batch), pick the job type, fill its options (a form
// from the contracts' JSON Schema), add pipeline steps, then follow the job.

import { jobTypes, post, upload } from "../api.js";
import { bytes, errorBox, fill, h } from "../dom.js";
import { FormError, optionsForm } from "../schema_form.js";

// Ready-made pipelines for the common wishes; each fills the form, nothing more.
const RECIPES = [
  { name: "Subtitles (SRT)", type: "generate_srt", steps: [] },
  { name: "Transcript", type: "transcribe", steps: [] },
  { name: "Subtitles, LLM-fixed", type: "generate_srt", steps: [{ type: "fix_srt" }] },
  {
    name: "Video with subtitle track", type: "generate_srt",
    steps: [{ type: "convert", input: "input",
      options: { preset: "mp4", subtitles: [{ from_step: 0 }] } }],
  },
  {
    name: "Video with original + translated tracks", type: "generate_srt",
    steps: [
      { type: "translate_srt", options: { target_language: "German" } },
      { type: "convert", input: "input",
        options: { preset: "mp4", subtitles: [{ from_step: 0 }, { from_step: 1, language: "de" }] } },
    ],
  },
];

function typeSelect(types, id, selected) {
  return h("select", { id },
    types.map((t) => h("option", { value: t.type, selected: t.type === selected },
      `${t.type} — ${t.description}`)));
}

// One job (the first, or a pipeline step): its type and its generated options form.
function jobEditor(types, type, options, prefix = "opt") {
  const box = h("div", { class: "job-editor" });
  let form = null;
  const select = typeSelect(types, `type-${Math.random().toString(36).slice(2)}`, type);
  function build(values) {
    const schema = types.find((t) => t.type === select.value).options_schema;
    form = optionsForm(schema, prefix);
    if (values) form.write(values);
    // Open where something must be filled in or was: nothing hides behind the summary.
    const open = form.required || Boolean(values && Object.keys(values).length);
    fill(box, h("label", {}, "Job type ", select),
      h("details", { class: "options-box", open }, h("summary", {}, "Options"), form.element));
  }
  select.addEventListener("change", () => build(null));
  build(options);
  return { element: box, type: () => select.value, values: () => form.values(), select };
}

// What a step reads, as the API spells it ({from: "input"}, {from_step: N}, or nothing:
// the previous step's output), and as the select spells it ("input", "N", "").
function inputChoice(input) {
  if (input === "input" || (input && input.from === "input")) return "input";
  return input && Number.isInteger(input.from_step) ? String(input.from_step) : "";
}

function stepRow(types, index, step, remove) {
  const editor = jobEditor(types, step.type, step.options, `step${index + 1}-opt`);
  const chosen = inputChoice(step.input);
  const input = h("select", { class: "step-input" },
    h("option", { value: "" }, "the previous step's output"),
    h("option", { value: "input", selected: chosen === "input" }, "the uploaded file"),
    Array.from({ length: index }, (_, n) =>
      h("option", { value: String(n), selected: chosen === String(n) }, `step ${n}'s output`)));
  const row = h("li", { class: "step" },
    h("div", { class: "step-head" }, h("strong", {}, `Step ${index + 1}`), " runs on ", input,
      h("button", { type: "button", class: "link", onclick: remove }, "remove")),
    editor.element);
  return {
    element: row,
    value() {
      const out = { type: editor.type(), options: editor.values() };
      if (input.value === "input") out.input = { from: "input" };
      else if (input.value !== "") out.input = { from_step: Number(input.value) };
      return out;
    },
  };
}

export async function submitPage(root, signal) {
  const types = await jobTypes();
  let files = [];
  const fileInput = h("input", { type: "file", id: "file-input", multiple: true,
    accept: "audio/*,video/*,.srt,.vtt,.json,.txt" });
  const fileList = h("ul", { class: "file-list" });
  const drop = h("label", { class: "drop", for: "file-input", id: "drop-zone" },
    h("strong", {}, "Drop audio or video here"), " or click to choose (several files make a batch)",
    fileInput);
  const showFiles = () => fill(fileList, files.map((f) => h("li", {}, f.name, " ",
    h("span", { class: "muted" }, bytes(f.size)))));
  fileInput.addEventListener("change", () => { files = [...fileInput.files]; showFiles(); });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    files = [...e.dataTransfer.files];
    showFiles();
  });

  const first = h("div");
  const stepsList = h("ol", { class: "steps", start: "1" });
  let editor = null;
  let steps = [];
  function load(recipe) {
    editor = jobEditor(types, recipe.type, recipe.options || null);
    fill(first, editor.element);
    steps = [];
    fill(stepsList);
    (recipe.steps || []).forEach(addStep);
  }
  function addStep(step) {
    const row = stepRow(types, steps.length, step, () => {
      const kept = steps.filter((s) => s !== row).map((s) => s.value());
      steps = [];
      fill(stepsList);
      kept.forEach(addStep);
    });
    steps.push(row);
    stepsList.append(row.element);
  }

  const recipes = h("div", { class: "recipes" }, "Start from: ",
    RECIPES.map((r) => h("button", { type: "button", class: "chip", onclick: () => load(r) }, r.name)));
  const status = h("div", { class: "submit-status", id: "submit-status" });
  const uploads = h("ul", { class: "uploads", id: "uploads" });
  const button = h("button", { type: "submit", id: "submit-job", class: "primary" }, "Submit");
  // novalidate: the options are checked by values() and by the API, whose message names
  // the field; the browser's own bubbles would stop a submit from a closed box silently.
  const form = h("form", { id: "submit-form", noValidate: true, onsubmit: (e) => { e.preventDefault(); send(); } },
    h("h1", {}, "Subtitle, transcribe or convert"),
    drop, fileList, recipes, first,
    h("h2", {}, "Then (a pipeline)"), stepsList,
    h("button", { type: "button", id: "add-step", onclick: () => addStep({ type: "fix_srt" }) },
      "+ Add a step"),
    h("div", { class: "actions" }, button), uploads, status);
  load(RECIPES[0]);
  fill(root, form);

  async function send() {
    if (!files.length) { fill(status, errorBox({ code: "no_file", message: "Choose a file first." })); return; }
    let body;
    try {
      body = { type: editor.type(), options: editor.values(), then: steps.map((s) => s.value()) };
    } catch (err) {
      if (err instanceof FormError) { fill(status, errorBox({ code: "invalid_options", message: err.message })); return; }
      throw err;
    }
    button.disabled = true;
    fill(status);
    fill(uploads);
    try {
      const ids = [];
      for (const file of files) ids.push((await uploadOne(file)).id);
      if (signal.aborted) return;
      const job = ids.length === 1
        ? await post("/v1/jobs", { ...body, file_id: ids[0] })
        : await post("/v1/batches", { ...body, file_ids: ids });
      location.hash = `#/jobs/${job.id}`;
    } catch (err) {
      fill(status, errorBox(err));
    } finally {
      button.disabled = false;
    }
  }

  // One line a file: its name, a byte progress bar, and what has been sent.
  async function uploadOne(file) {
    const bar = h("progress", { max: file.size || 1, value: 0, class: "upload-progress" });
    const text = h("span", { class: "upload-bytes" }, `0 of ${bytes(file.size)}`);
    uploads.append(h("li", {}, h("span", { class: "filename" }, file.name), " ", bar, " ", text));
    const stored = await upload(file, (sent, total) => {
      bar.max = total;
      bar.value = sent;
      text.textContent = `${bytes(sent)} of ${bytes(total)}`;
    });
    bar.value = bar.max;
    text.textContent = `${bytes(file.size)} uploaded`;
    return stored;
  }
}
