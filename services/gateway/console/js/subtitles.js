// SRT and WebVTT read into cues, and a WebVTT document for the player's <track>.

const TIME = /(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})/;

function toSeconds(text) {
  const m = TIME.exec(text);
  if (!m) return null;
  return (Number(m[1] || 0) * 3600) + Number(m[2]) * 60 + Number(m[3])
    + Number(m[4].padEnd(3, "0")) / 1000;
}

/** [{start, end, text, speaker}] of an SRT or WebVTT document (unparseable blocks skipped). */
export function parseCues(doc) {
  const blocks = doc.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n").split(/\n{2,}/);
  const cues = [];
  for (const block of blocks) {
    const lines = block.split("\n");
    const at = lines.findIndex((l) => l.includes("-->"));
    if (at < 0) continue;
    const [from, to] = lines[at].split("-->");
    const start = toSeconds(from);
    const end = toSeconds(to);
    if (start === null || end === null) continue;
    let text = lines.slice(at + 1).join("\n");
    let speaker = null;
    const voice = /<v(?:\.[^ >]*)? ([^>]+)>/.exec(text);
    if (voice) speaker = voice[1];
    text = text.replace(/<[^>]*>/g, "");  // VTT voice and style tags: the text alone
    cues.push({ start, end, text, speaker });
  }
  return cues;
}

function stamp(s) {
  const ms = Math.round(s * 1000);
  const two = (n) => String(n).padStart(2, "0");
  return `${two(Math.floor(ms / 3600000))}:${two(Math.floor(ms / 60000) % 60)}:`
    + `${two(Math.floor(ms / 1000) % 60)}.${String(ms % 1000).padStart(3, "0")}`;
}

/** A WebVTT document of the cues (the player reads VTT only). */
export function toVtt(cues) {
  const body = cues.map((c) => {
    // "-->" in the text would end the cue early; a VTT cue cannot hold a blank line.
    const text = c.text.replace(/-->/g, "->").replace(/\n{2,}/g, "\n");
    const safe = text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    return `${stamp(c.start)} --> ${stamp(c.end)}\n${c.speaker ? `${c.speaker}: ` : ""}${safe}`;
  });
  return `WEBVTT\n\n${body.join("\n\n")}\n`;
}
