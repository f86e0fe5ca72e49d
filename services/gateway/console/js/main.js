// The console's shell: the API-key bar, the navigation, and a hash router that renders
// one page at a time (each page stops its timers and streams when it is left).

import { apiKey, onUnauthorized } from "./api.js";
import { fill, h } from "./dom.js";
import { jobPage } from "./pages/job.js";
import { jobsPage } from "./pages/jobs.js";
import { queuePage } from "./pages/queue.js";
import { submitPage } from "./pages/submit.js";

const view = document.getElementById("view");
const keyBar = document.getElementById("key-bar");
let current = null;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function route() {
  const [path, search] = (location.hash.slice(1) || "/submit").split("?");
  const params = new URLSearchParams(search || "");
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "jobs" && parts[1]) {
    if (!UUID.test(parts[1])) return ["jobs", (el) => fill(el, h("div", { class: "error" }, "Not a job id."))];
    return ["jobs", (el, s) => jobPage(el, parts[1], s)];
  }
  if (parts[0] === "jobs") return ["jobs", (el, s) => jobsPage(el, params, s)];
  if (parts[0] === "queue") return ["queue", (el, s) => queuePage(el, s)];
  return ["submit", (el, s) => submitPage(el, s)];
}

function render() {
  if (current) current.abort();
  const mine = new AbortController();
  current = mine;
  const [name, page] = route();
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.page === name);
  }
  // Each page draws into its own box: a page left while it still awaits draws into a
  // detached box, never over the next page.
  const box = h("div", { class: "page" });
  fill(view, box);
  Promise.resolve(page(box, mine.signal)).catch((err) => {  // a page left since: not ours
    if (!mine.signal.aborted) fill(view, h("div", { class: "error" }, String(err.message || err)));
  });
}

function showKeyBar(message) {
  const shown = keyBar.querySelector(".key-form label");
  if (!keyBar.hidden && shown) {  // the pages keep polling: keep what is being typed
    shown.textContent = message;
    return;
  }
  const input = h("input", { type: "password", id: "api-key", placeholder: "API key",
    autocomplete: "off" });
  const form = h("form", { class: "key-form", onsubmit: (e) => {
    e.preventDefault();
    if (input.value.trim()) { apiKey.set(input.value.trim()); hideKeyBar(); render(); }
  } }, h("label", { for: "api-key" }, message), input,
  h("button", { type: "submit" }, "Use key"));
  fill(keyBar, form);
  keyBar.hidden = false;
  input.focus();
}

function hideKeyBar() {
  keyBar.hidden = true;
  document.getElementById("forget-key").hidden = !apiKey.get();
}

onUnauthorized(() => showKeyBar(apiKey.get()
  ? "The gateway refused this API key. Another key:"
  : "This gateway needs an API key (kept in this tab only):"));

document.getElementById("forget-key").addEventListener("click", () => {
  apiKey.clear();
  hideKeyBar();
  render();
});

window.addEventListener("hashchange", render);
hideKeyBar();
render();
