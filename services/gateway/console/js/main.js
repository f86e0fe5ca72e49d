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

function route() {
  const [path, search] = (location.hash.slice(1) || "/submit").split("?");
  const params = new URLSearchParams(search || "");
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "jobs" && parts[1]) return ["jobs", (el, s) => jobPage(el, parts[1], s)];
  if (parts[0] === "jobs") return ["jobs", (el, s) => jobsPage(el, params, s)];
  if (parts[0] === "queue") return ["queue", (el, s) => queuePage(el, s)];
  return ["submit", (el, s) => submitPage(el, s)];
}

function render() {
  if (current) current.abort();
  current = new AbortController();
  const [name, page] = route();
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.page === name);
  }
  fill(view);
  page(view, current.signal).catch((err) => {
    if (!current.signal.aborted) fill(view, h("div", { class: "error" }, String(err.message || err)));
  });
}

function showKeyBar(message) {
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
