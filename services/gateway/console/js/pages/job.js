// One job: status and live progress, every event with its time and attempt, the error,
// pipeline steps and batch children, cancel, and the results once it is done.

import { followEvents, get, post, query } from "../api.js";
import { bytes, errorBox, fill, h, when } from "../dom.js";
import { jobTable, statusBadge } from "./jobs.js";
import { mediaOf, results } from "./results.js";

const TERMINAL = new Set(["completed", "failed", "cancelled", "expired"]);
const POLL_MS = 2000;

function detail(kind, e) {
  if (kind === "progressed") return `${Math.round(e.progress * 100)} %${e.message ? ` — ${e.message}` : ""}`;
  if (kind === "failed" || kind === "requeued") return e.error ? `${e.error.code}: ${e.error.message}` : "";
  if (kind === "started") return e.worker ? `on ${e.worker}` : "";
  if (kind === "cancelled") return e.reason || "";
  if (kind === "queued") return e.type || "";
  return "";
}

function stepsTable(steps) {
  return h("table", { class: "steps-table", id: "steps" },
    h("thead", {}, h("tr", {}, ["Step", "Type", "Status", "Job"].map((c) => h("th", {}, c)))),
    h("tbody", {}, steps.map((s) => h("tr", {},
      h("td", {}, String(s.index)), h("td", {}, s.type), h("td", {}, statusBadge(s.status)),
      h("td", {}, s.job_id ? h("a", { href: `#/jobs/${s.job_id}`, class: "mono" }, s.job_id.slice(0, 8)) : "–")))));
}

// A pipeline's later steps, each with its result beside the pipeline's input.
async function stepResults(root) {
  const media = await mediaOf(root);
  const out = [];
  for (const step of root.steps.slice(1)) {
    if (step.status !== "completed" || !step.job_id) continue;
    const stepJob = await get(`/v1/jobs/${step.job_id}`).catch(() => null);
    if (!stepJob) continue;
    out.push(h("h2", {}, `Step ${step.index}: ${step.type}`), await results(stepJob, media));
  }
  return out;
}

export async function jobPage(root, jobId, signal) {
  const head = h("div", { class: "job-head" });
  const bar = h("progress", { id: "job-progress", max: 100, value: 0 });
  const pct = h("span", { id: "job-progress-text" }, "0 %");
  const actions = h("div", { class: "actions" });
  const problem = h("div", { id: "job-error" });
  const steps = h("div");
  const children = h("div");
  const resultBox = h("div");
  const events = h("tbody");
  fill(root, head, h("div", { class: "progress-line" }, bar, " ", pct), actions, problem, steps,
    children, resultBox,
    h("h2", {}, "Events"),
    h("table", { class: "timeline", id: "timeline" },
      h("thead", {}, h("tr", {}, ["Time", "Event", "Attempt", "Details"].map((c) => h("th", {}, c)))),
      events));

  let job = await get(`/v1/jobs/${jobId}`);
  const input = job.file_id ? await get(`/v1/files/${job.file_id}`).catch(() => null) : null;
  let shownResult = false;
  let shownSteps = false;
  let best = 0;  // streamed and polled progress interleave: the bar never goes back

  function setProgress(p) {
    best = Math.max(best, p);
    const value = Math.round(best * 100);
    bar.value = value;
    pct.textContent = `${value} %`;
  }

  let cancelButton = null;  // kept across polls, so a click in flight stays disabled
  function cancelAction() {
    cancelButton = cancelButton
      || h("button", { type: "button", id: "cancel-job", onclick: (e) => cancel(e.target) }, "Cancel");
    return cancelButton;
  }

  async function cancel(button) {
    button.disabled = true;
    try { show(await post(`/v1/jobs/${jobId}/cancel`)); } catch (err) { fill(problem, errorBox(err)); }
  }

  async function show(next) {
    job = next;
    fill(head, h("h1", {}, `${job.type} `, statusBadge(job.status)),
      h("p", { class: "muted mono" }, job.id),
      h("p", { class: "muted" }, `created ${when(job.created_at)}`,
        job.started_at ? ` · started ${when(job.started_at)}` : "",
        job.finished_at ? ` · finished ${when(job.finished_at)}` : "",
        ` · attempt ${job.attempt}`),
      input ? h("p", {}, "Input: ", h("span", { class: "filename" }, input.filename), " ",
        h("span", { class: "muted" }, `${input.content_type}, ${bytes(input.size)}`)) : null,
      job.parent_id ? h("p", {}, "Part of ", h("a", { href: `#/jobs/${job.parent_id}` }, "its parent job")) : null);
    setProgress(job.status === "completed" ? 1 : job.progress);
    if (TERMINAL.has(job.status)) fill(actions);
    else if (!actions.contains(cancelAction())) fill(actions, cancelAction());
    fill(problem, job.error ? errorBox(job.error) : null);
    fill(steps, job.steps && job.steps.length ? [h("h2", {}, "Pipeline steps"), stepsTable(job.steps)] : null);
    if (job.type === "batch") {
      const page = await get(`/v1/jobs${query({ parent_id: job.id, limit: 100 })}`);
      fill(children, h("h2", {}, "Batch jobs"), jobTable(page.items),
        page.next_cursor ? h("p", {}, h("a", { href: `#/jobs?parent_id=${job.id}` },
          "All of this batch's jobs →")) : null);
    }
    if (TERMINAL.has(job.status) && !shownResult) {
      shownResult = true;
      fill(resultBox, await results(job));
    }
    if (settled() && !shownSteps && (job.steps || []).length > 1) {
      shownSteps = true;
      resultBox.append(...await stepResults(job));
    }
  }

  function settled() {
    return TERMINAL.has(job.status) && (job.steps || []).every((s) => TERMINAL.has(s.status));
  }

  await show(job);
  followEvents(jobId, (kind, e) => {
    if (kind === "snapshot") return;  // the job's final state, already shown by polling
    events.append(h("tr", { class: `event ${kind}` },
      h("td", {}, when(e.occurred_at)), h("td", {}, kind), h("td", { class: "n" }, String(e.attempt)),
      h("td", {}, detail(kind, e))));
    if (kind === "progressed" && !TERMINAL.has(job.status)) setProgress(e.progress);
  }, signal).catch((err) => { if (!signal.aborted) fill(problem, errorBox(err)); });

  // The job itself (status, steps, children) by short polling, until all is settled.
  while (!signal.aborted && !settled()) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (signal.aborted) return;
    try { await show(await get(`/v1/jobs/${jobId}`)); } catch (err) { fill(problem, errorBox(err)); }
  }
}
