// Building the page: every piece of data becomes a text node, never markup.

const SAFE_URL = /^(https?:|blob:|#|\/(?!\/))/i;

/** h("a", {href, class, onclick}, child, ...): an element; strings become text; `on…`
 * props take functions only; `href`/`src` only http(s), blob, same-site paths, `#…`. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) {
      if (typeof value === "function") el.addEventListener(key.slice(2), value);
    } else if ((key === "href" || key === "src") && !SAFE_URL.test(String(value))) {
      continue;  // no javascript: or data: link, whatever a result holds
    } else if (typeof value === "boolean" || key === "value") el[key] = value;
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function seconds(s) {
  if (s === null || s === undefined) return "";
  const whole = Math.floor(s);
  const hh = Math.floor(whole / 3600);
  const mm = Math.floor((whole % 3600) / 60);
  const ss = whole % 60;
  const ms = Math.round((s - whole) * 1000);
  const two = (n) => String(n).padStart(2, "0");
  return `${hh ? hh + ":" : ""}${two(mm)}:${two(ss)}.${String(ms).padStart(3, "0")}`;
}

export function age(s) {
  if (s === null || s === undefined) return "–";
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = n / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) { value /= 1024; i += 1; }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
}

export function errorBox(err) {
  const code = err && err.code ? err.code : "error";
  return h("div", { class: "error", role: "alert" },
    h("strong", { class: "error-code" }, code), " ", h("span", {}, err.message || String(err)));
}
