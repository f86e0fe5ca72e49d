// Jobs: a filterable, paged table (GET /v1/jobs), refreshed while the first page shows.

import { get, jobTypes, query } from "../api.js";
import { errorBox, fill, h, when } from "../dom.js";

const STATUSES = ["pending", "processing", "completed", "failed", "cancelled", "expired"];
const REFRESH_MS = 3000;

export function statusBadge(status) {
  return h("span", { class: `badge ${status}` }, status);
}

export function progressCell(job) {
  const pct = Math.round((job.progress || 0) * 100);
  return h("span", { class: "progress-cell" },
    h("progress", { max: 100, value: job.status === "completed" ? 100 : pct }),
    ` ${job.status === "completed" ? 100 : pct} %`);
}

export function jobRow(job) {
  return h("tr", { dataset: { jobId: job.id, status: job.status, type: job.type } },
    h("td", {}, h("a", { href: `#/jobs/${job.id}`, class: "mono" }, job.id.slice(0, 8))),
    h("td", {}, job.type),
    h("td", {}, statusBadge(job.status)),
    h("td", {}, progressCell(job)),
    h("td", {}, job.error ? h("span", { class: "error-code" }, job.error.code) : ""),
    h("td", {}, job.parent_id
      ? h("a", { href: `#/jobs/${job.parent_id}`, class: "mono" }, job.parent_id.slice(0, 8)) : ""),
    h("td", {}, when(job.created_at)));
}

export function jobTable(jobs) {
  return h("table", { class: "jobs" },
    h("thead", {}, h("tr", {}, ["Job", "Type", "Status", "Progress", "Error", "Parent", "Created"]
      .map((c) => h("th", {}, c)))),
    h("tbody", {}, jobs.length ? jobs.map(jobRow)
      : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No jobs match."))));
}

export async function jobsPage(root, params, signal) {
  const types = [...(await jobTypes()).map((t) => t.type), "batch"];
  const filters = {
    status: params.get("status") || "",
    type: params.get("type") || "",
    parent_id: params.get("parent_id") || "",
  };
  const limit = Math.min(Math.max(Number(params.get("limit")) || 25, 1), 100);
  const cursors = [];
  let cursor = params.get("cursor") || "";
  const pick = (name, options) => h("select", { id: `filter-${name}`, onchange: (e) => {
    filters[name] = e.target.value;
    go();
  } }, h("option", { value: "" }, `any ${name}`),
  options.map((o) => h("option", { value: o, selected: filters[name] === o }, o)));
  const parent = h("input", { id: "filter-parent", placeholder: "parent job id",
    value: filters.parent_id, onchange: (e) => { filters.parent_id = e.target.value.trim(); go(); } });
  const table = h("div", { id: "jobs-table" });
  const pager = h("div", { class: "pager" });
  fill(root, h("h1", {}, "Jobs"),
    h("div", { class: "filters" }, pick("status", STATUSES), pick("type", types), parent),
    table, pager);

  function go() {  // the filters live in the address, so a filtered view can be shared
    location.hash = `#/jobs${query(filters)}`;
  }

  let latest = 0;  // a refresh answered after a page change is dropped
  async function load() {
    const mine = ++latest;
    try {
      const page = await get(`/v1/jobs${query({ ...filters, cursor, limit })}`);
      if (signal.aborted || mine !== latest) return;
      fill(table, jobTable(page.items));
      fill(pager,
        cursors.length ? h("button", { type: "button", id: "prev-page", onclick: () => { cursor = cursors.pop(); load(); } },
          "← Newer") : null,
        page.next_cursor ? h("button", { type: "button", id: "next-page", onclick: () => {
          cursors.push(cursor);
          cursor = page.next_cursor;
          load();
        } }, "Older →") : null);
    } catch (err) {
      if (!signal.aborted) fill(table, errorBox(err));
    }
  }
  await load();
  if (signal.aborted) return;
  const timer = setInterval(() => { if (!cursor) load(); }, REFRESH_MS);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
