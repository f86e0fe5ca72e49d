// Queue: per job type what waits, runs and failed lately; the worker pools; dead letters.
// Short polling of GET /v1/queue (operators) every two seconds.

import { get } from "../api.js";
import { age, errorBox, fill, h, when } from "../dom.js";

const REFRESH_MS = 2000;
const num = (n) => (n === null || n === undefined ? "–" : String(n));

function typesTable(types) {
  const head = ["Type", "Waiting", "Running", "Failed (1 h)", "Completed (1 h)",
    "Oldest waiting", "Stream: not delivered", "Stream: unacked"];
  return h("table", { class: "queue", id: "queue-types" },
    h("thead", {}, h("tr", {}, head.map((c) => h("th", {}, c)))),
    h("tbody", {}, types.length ? types.map((t) => h("tr", { dataset: { type: t.type } },
      h("td", {}, h("a", { href: `#/jobs?type=${t.type}` }, t.type)),
      h("td", { class: "n waiting" }, num(t.waiting)),
      h("td", { class: "n running" }, num(t.running)),
      h("td", { class: `n failed${t.failed_recently ? " bad" : ""}` },
        t.failed_recently ? h("a", { href: `#/jobs?type=${t.type}&status=failed` }, num(t.failed_recently)) : "0"),
      h("td", { class: "n" }, num(t.completed_recently)),
      h("td", { class: "n" }, age(t.oldest_waiting_s)),
      h("td", { class: "n" }, num(t.stream_undelivered)),
      h("td", { class: "n" }, num(t.stream_unacked))))
      : h("tr", {}, h("td", { colspan: head.length, class: "muted" }, "No jobs yet."))));
}

function poolsTable(pools) {
  return h("table", { class: "queue", id: "queue-pools" },
    h("thead", {}, h("tr", {}, ["Job type", "Replicas alive", "Model", "Version", "Service"].map((c) => h("th", {}, c)))),
    h("tbody", {}, pools.length ? pools.map((p) => h("tr", { dataset: { type: p.type } },
      h("td", {}, p.type), h("td", { class: "n replicas" }, String(p.replicas)),
      h("td", {}, p.models.join(", ") || "–"), h("td", {}, p.versions.join(", ") || "–"),
      h("td", {}, p.services.join(", "))))
      : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No worker replica is announcing itself."))));
}

function lettersTable(letters) {
  return h("table", { class: "queue", id: "dead-letters" },
    h("thead", {}, h("tr", {}, ["Recorded", "Consumer", "Subject", "Deliveries", "Reason", "Excerpt"]
      .map((c) => h("th", {}, c)))),
    h("tbody", {}, letters.map((d) => h("tr", {},
      h("td", {}, when(d.recorded_at)), h("td", {}, d.consumer), h("td", { class: "mono" }, d.subject),
      h("td", { class: "n" }, String(d.delivered)), h("td", {}, d.reason),
      h("td", {}, h("code", {}, d.excerpt.slice(0, 120)))))));
}

export async function queuePage(root, signal) {
  const body = h("div", { id: "queue" });
  const stamp = h("p", { class: "muted", id: "queue-at" });
  fill(root, h("h1", {}, "Queue"), stamp, body);
  let lettersSeen = -1;
  let letters = [];

  async function load() {
    try {
      const q = await get("/v1/queue");
      if (q.dead_letters !== lettersSeen) {
        letters = q.dead_letters ? (await get("/v1/dead-letters?limit=20")).items : [];
        lettersSeen = q.dead_letters;
      }
      if (signal.aborted) return;
      stamp.textContent = `Live, updated ${new Date(q.at).toLocaleTimeString()}`
        + (q.nats_figures ? "" : " (NATS did not answer: stream figures missing)");
      fill(body, typesTable(q.types),
        h("h2", {}, "Worker pools"), poolsTable(q.pools),
        h("h2", {}, `Dead letters: ${q.dead_letters}`),
        q.dead_letters ? lettersTable(letters) : h("p", { class: "muted" }, "None."));
    } catch (err) {
      if (!signal.aborted) fill(body, errorBox(err));
    }
  }
  let busy = false;  // a slow answer is not overtaken by the next poll
  const poll = async () => {
    if (busy) return;
    busy = true;
    try { await load(); } finally { busy = false; }
  };
  await poll();
  if (signal.aborted) return;
  const timer = setInterval(poll, REFRESH_MS);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
