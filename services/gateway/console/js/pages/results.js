// A finished job's results: transcript segments, subtitle cues beside a player that
// plays the input with the subtitles as a track (click a cue to seek), downloads.

import { get } from "../api.js";
import { bytes, h, seconds } from "../dom.js";
import { parseCues, toVtt } from "../subtitles.js";

const isMedia = (file) => /^(audio|video)\//.test(file.content_type || "");

async function fileOrNull(id) {
  try { return await get(`/v1/files/${id}`); } catch { return null; }
}

/** The audio/video the job's subtitles belong to: its input, or its batch's. */
export async function mediaOf(job) {
  const own = job.file_id ? await fileOrNull(job.file_id) : null;
  if (own && isMedia(own)) return own;
  if (job.parent_id) {
    const parent = await get(`/v1/jobs/${job.parent_id}`).catch(() => null);
    if (parent && parent.file_id) {
      const theirs = await fileOrNull(parent.file_id);
      if (theirs && isMedia(theirs)) return theirs;
    }
  }
  return null;
}

function player(file, tracks) {
  const kind = file.content_type.startsWith("video/") ? "video" : "audio";
  const el = h(kind, { controls: true, preload: "metadata", id: "player", src: file.url });
  tracks.forEach((t, i) => {
    const url = URL.createObjectURL(new Blob([toVtt(t.cues)], { type: "text/vtt" }));
    el.append(h("track", { kind: "subtitles", label: t.label, srclang: t.lang || "und",
      src: url, default: i === 0 }));
  });
  return el;
}

// Cues (or segments) as a list; a click seeks the player; the playing one is marked.
function cueList(cues, media) {
  const items = cues.map((c) => h("li", { class: "cue", onclick: () => {
    if (media) { media.currentTime = c.start + 0.01; media.play().catch(() => {}); }
  } }, h("span", { class: "cue-time mono" }, `${seconds(c.start)} → ${seconds(c.end)}`),
  c.speaker ? h("span", { class: "speaker" }, c.speaker) : null,
  h("span", { class: "cue-text" }, c.text)));
  if (media) {
    media.addEventListener("timeupdate", () => {
      cues.forEach((c, i) => items[i].classList.toggle(
        "playing", media.currentTime >= c.start && media.currentTime < c.end));
    });
  }
  return h("ol", { class: "cues", id: "cues" }, items);
}

function cuesOf(result) {
  if (result.type === "transcribe") {
    if (!Array.isArray(result.segments)) return null;  // a summary of a large result
    return result.segments.map((s) => ({ start: s.start, end: s.end, text: s.text.trim(),
      speaker: s.speaker || null }));
  }
  return typeof result.content === "string" ? parseCues(result.content) : null;
}

export async function downloads(job) {
  const ids = job.output_file_ids || [];
  if (!ids.length) return null;
  const files = (await Promise.all(ids.map(fileOrNull))).filter(Boolean);
  return h("div", { class: "downloads" }, h("h3", {}, "Downloads"),
    h("ul", {}, files.map((f) => h("li", {},
      f.url ? h("a", { href: f.url, class: "download", download: f.filename }, f.filename) : f.filename,
      " ", h("span", { class: "muted" }, `${f.content_type}, ${bytes(f.size)}`)))));
}

/** `media`: what to play the subtitles with (a pipeline step's page passes the
 * pipeline's input); by default the job's own. */
export async function results(job, media) {
  const main = media === undefined;  // the page's own result (ids on its parts)
  const r = job.result;
  const box = h("section", { class: "results", id: main ? "results" : null },
    main ? h("h2", {}, "Result") : null);
  if (!r) return box;
  if (r.full_result) {  // too large to inline: what shows is a summary
    box.append(h("p", { class: "notice" }, "This result is too large to show whole here. ",
      r.full_result.url ? h("a", { href: r.full_result.url, class: "download" }, "The whole result (JSON)") : null));
  }
  const links = await downloads(job);  // first: what most come for is the file
  if (links) box.append(links);
  if (r.type === "summarize") box.append(h("p", { class: "summary" }, r.summary));
  if (r.type === "convert" && r.url) {
    const out = { content_type: r.content_type, url: r.url };
    if (isMedia(out)) box.append(player(out, []));
  }
  const cues = cuesOf(r);
  if (cues) {
    if (media === undefined) media = await mediaOf(job);
    const label = r.language ? `${job.type} (${r.language})` : job.type;
    const play = media ? player(media, [{ cues, label, lang: r.language }]) : null;
    if (r.type === "transcribe") box.append(h("p", { class: "transcript", id: "transcript" }, r.text));
    box.append(h("div", { class: "with-player" },
      play ? h("div", { class: "player" }, play) : null, cueList(cues, play)));
    if (r.speakers) {
      box.append(h("p", { class: "muted" }, r.speakers.map((s) =>
        `${s.speaker}: ${s.talk_time_s.toFixed(1)} s`).join(" · ")));
    }
  }
  if (r.type === "batch") {
    box.append(h("p", {}, `${r.completed} of ${r.total} completed, ${r.failed} failed, `
      + `${r.cancelled} cancelled.`));
  }
  if (!main) box.querySelectorAll("[id]").forEach((el) => el.removeAttribute("id"));
  return box;
}
