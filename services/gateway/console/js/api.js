// The public REST API, and nothing else: every call the console makes goes through here.

const KEY = "jetscribe.apiKey";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The API key lives in this tab's session storage only (gone when the tab closes). */
export const apiKey = {
  get: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

const listeners = new Set();
/** Called with an ApiError whenever the API answers 401 (ask for a key). */
export function onUnauthorized(fn) { listeners.add(fn); }

function headers(extra = {}) {
  const key = apiKey.get();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function failure(resp) {
  let body = {};
  try { body = await resp.json(); } catch { /* not JSON */ }
  const info = body.error || {};
  const err = new ApiError(resp.status, info.code || `http_${resp.status}`,
    info.message || resp.statusText || "request failed");
  if (resp.status === 401) listeners.forEach((fn) => fn(err));
  return err;
}

export async function call(method, path, body) {
  const init = { method, headers: headers() };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (!resp.ok) throw await failure(resp);
  return resp.status === 204 ? null : resp.json();
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v != null) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** POST /v1/files with byte progress (fetch cannot report upload progress; XHR can). */
export function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/files");
    for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 201) { resolve(body); return; }
      const info = body.error || {};
      const err = new ApiError(xhr.status, info.code || `http_${xhr.status}`,
        info.message || "upload failed");
      if (xhr.status === 401) listeners.forEach((fn) => fn(err));
      reject(err);
    };
    xhr.onerror = () => reject(new ApiError(0, "network_error", "the upload did not reach the gateway"));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

/**
 * A job's events (GET /v1/jobs/{id}/events, Server-Sent Events), read with fetch so the
 * API key can go in a header (EventSource cannot send one). Calls onEvent(kind, event)
 * for each; reconnects after a drop with Last-Event-ID, so nothing is missed or repeated.
 * Resolves once the stream ended after a terminal event (or the job's final snapshot),
 * or when `signal` aborts; a stream cut short otherwise (a proxy, a gateway restart)
 * is reopened.
 */
export async function followEvents(jobId, onEvent, signal) {
  let lastId = null;
  let final = false;
  for (let attempt = 0; !signal.aborted; attempt += 1) {
    try {
      const h = headers({ Accept: "text/event-stream" });
      if (lastId !== null) h["Last-Event-ID"] = lastId;
      const resp = await fetch(`/v1/jobs/${jobId}/events`, { headers: h, signal });
      if (!resp.ok) throw await failure(resp);
      attempt = 0;
      const ended = await readFrames(resp.body, signal, (frame) => {
        if (frame.id !== undefined) lastId = frame.id;
        const kind = frame.event || "message";
        final = FINAL_KINDS.has(kind);
        onEvent(kind, JSON.parse(frame.data));
      });
      if (ended && final) return;
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) throw err;
    }
    await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 10000)));
  }
}

const FINAL_KINDS = new Set(["completed", "failed", "cancelled", "expired", "snapshot"]);

// Parses the stream into frames; true when the server ended it.
async function readFrames(body, signal, onFrame) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let frame = {};
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) return true;
    buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.search(/\r?\n/)) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer[nl] === "\r" ? 2 : 1));
      if (line === "") {
        if (frame.data !== undefined) onFrame(frame);
        frame = {};
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        frame[field] = field === "data" && frame.data !== undefined ? `${frame.data}\n${val}` : val;
      }
    }
  }
  reader.cancel().catch(() => {});
  return false;
}

let typesCache = null;
/** The job types and their options' JSON Schema (GET /v1/job-types), fetched once. */
export async function jobTypes() {
  typesCache = typesCache || (await get("/v1/job-types")).items;
  return typesCache;
}
