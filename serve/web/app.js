// smithc serve: the page. No framework: a hash router, fetch, and
// EventSource. Every number and state shown comes from /api/v1.
"use strict";

const STATUSES = ["", "running", "waiting-approval", "waiting-event", "waiting-timer", "paused", "finished", "failed", "cancelled"];
const app = () => document.getElementById("app");
let stream = null; // the open EventSource of the current view

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch("/api/v1" + path, opts);
  if (res.status === 401) {
    location.href = "/login?next=" + encodeURIComponent("/" + location.hash);
    throw new Error("not logged in");
  }
  const type = res.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await res.json() : await res.text();
  if (!res.ok) {
    const msg = (data && data.error) || res.statusText;
    const err = new Error(data && data.field ? `${msg} (field ${data.field})` : msg);
    err.status = res.status;
    throw err;
  }
  return data;
}

function toast(msg, kind) {
  const t = document.getElementById("toast");
  t.textContent = msg;
  t.className = "toast " + (kind || "error");
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

function badge(status) { return el("span", { class: "badge s-" + status, text: status }); }

function ago(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString();
}

function dur(ms) {
  if (ms === undefined || ms === null) return "";
  if (ms < 1000) return ms + " ms";
  const s = ms / 1000;
  if (s < 60) return s.toFixed(1) + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.round(s % 60)}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}

function setConn(text) { document.getElementById("conn").textContent = text; }

function closeStream() {
  if (stream) { stream.close(); stream = null; }
}

// ---- runs list ----

async function showRuns(params) {
  closeStream();
  const status = params.get("status") || "";
  const root = app();
  root.replaceChildren();
  const filters = el("div", { class: "filters", role: "group", "aria-label": "Filter by status" },
    STATUSES.map(s => el("a", { href: "#/?status=" + s, class: s === status ? "on" : "", "aria-current": s === status ? "true" : null, text: s || "all" })));
  const tbody = el("tbody");
  const table = el("table", { class: "runs" },
    el("caption", { text: "Runs" + (status ? " (" + status + ")" : "") }),
    el("thead", {}, el("tr", {}, ["Run", "Workflow", "Status", "Waiting on", "Started", "Elapsed", "Parent"].map(h => el("th", { scope: "col", text: h })))),
    tbody);
  const more = el("p", { class: "more" });
  root.append(el("h1", { text: "Runs" }), filters, table, more);
  const rows = new Map();
  const render = (r) => {
    const tr = el("tr", { "data-run": r.id, class: "run-row" },
      el("td", {}, el("a", { href: "#/runs/" + encodeURIComponent(r.id), text: r.id })),
      el("td", { text: r.workflow }),
      el("td", {}, badge(r.status)),
      el("td", { text: (r.waiting || []).map(w => w.title || w.node).join(", ") }),
      el("td", { text: ago(r.created_at) }),
      el("td", { text: dur(r.elapsed_ms) }),
      el("td", {}, r.parent_run_id ? el("a", { href: "#/runs/" + encodeURIComponent(r.parent_run_id), text: r.parent_run_id }) : ""));
    const old = rows.get(r.id);
    if (old) old.replaceWith(tr); else tbody.prepend(tr);
    rows.set(r.id, tr);
  };
  const q = status ? "?status=" + encodeURIComponent(status) : "";
  try {
    const data = await api("GET", "/runs" + q);
    for (const r of data.runs.slice().reverse()) render(r);
    more.textContent = data.next ? "Showing the newest " + data.runs.length + " runs." : "";
    if (!data.runs.length) tbody.append(el("tr", { class: "empty" }, el("td", { colspan: 7, text: "No runs yet. Start one with smithc run FILE --db (this store)." })));
  } catch (e) { toast(e.message); }
  stream = new EventSource("/api/v1/stream" + q);
  stream.addEventListener("open", () => setConn("live"));
  stream.addEventListener("error", () => setConn("reconnecting…"));
  stream.addEventListener("run", (m) => {
    const r = JSON.parse(m.data);
    if (status && r.status !== status) {
      const old = rows.get(r.id);
      if (old) { old.remove(); rows.delete(r.id); }
      return;
    }
    const empty = tbody.querySelector(".empty");
    if (empty) empty.remove();
    render(r);
  });
}

// ---- one run ----

async function showRun(id) {
  closeStream();
  const root = app();
  root.replaceChildren(el("p", { text: "Loading run " + id + "…" }));
  let detail;
  try {
    detail = await api("GET", "/runs/" + encodeURIComponent(id));
  } catch (e) {
    root.replaceChildren(el("h1", { text: "Run " + id }), el("p", { class: "error", text: e.message }));
    return;
  }
  const head = el("div", { class: "run-head" });
  const actions = el("div", { class: "actions", role: "toolbar", "aria-label": "Run actions" });
  const waiting = el("section", { class: "waiting", "aria-label": "Waiting" });
  const graph = el("div", { class: "graph", "aria-label": "Workflow graph" });
  const side = el("aside", { class: "node-panel", "aria-live": "polite" }, el("p", { class: "hint", text: "Select a node in the graph for its attempts, output and log." }));
  const log = el("ol", { class: "log", "aria-label": "Event log" });
  root.replaceChildren(head, actions, waiting, el("div", { class: "run-body" }, graph, side),
    el("h2", { text: "Events" }), log);

  let selected = null;
  let events = [];

  const renderHead = () => {
    const r = detail.run;
    head.replaceChildren(...[
      el("h1", {}, "Run ", el("code", { text: r.id }), " ", badge(r.status)),
      el("p", { class: "meta" },
        "workflow ", el("strong", { text: r.workflow }),
        " · started ", ago(r.created_at), " · elapsed ", dur(r.elapsed_ms),
        r.parent_run_id ? el("span", {}, " · parent ", el("a", { href: "#/runs/" + encodeURIComponent(r.parent_run_id), text: r.parent_run_id })) : null,
        detail.forked_from ? el("span", { class: "forked" }, " · forked from ", el("a", { href: "#/runs/" + encodeURIComponent(detail.forked_from.run_id), text: detail.forked_from.run_id }), " at ", el("code", { text: detail.forked_from.node })) : null,
        r.tokens ? " · tokens " + r.tokens : null,
        r.cost_usd ? " · $" + r.cost_usd.toFixed(4) : null),
      r.error ? el("pre", { class: "error", text: r.error }) : null,
      detail.output !== undefined && detail.output !== null ? el("details", { open: true }, el("summary", { text: "Output" }), el("pre", { class: "json", text: JSON.stringify(detail.output, null, 2) })) : null,
      detail.children && detail.children.length ? el("p", {}, "Child runs: ", detail.children.map(c => el("span", {}, el("a", { href: "#/runs/" + encodeURIComponent(c.id), text: c.id }), " ", badge(c.status), " "))) : null].filter(Boolean));
    const live = ["running", "waiting-approval", "waiting-event", "waiting-timer"].includes(r.status);
    const button = (label, path, enabled) => el("button", {
      type: "button", disabled: !enabled, onclick: async (ev) => {
        ev.target.disabled = true;
        try { await api("POST", "/runs/" + encodeURIComponent(r.id) + path, {}); toast(label + ": done", "ok"); await refresh(); }
        catch (e) { toast(e.message); ev.target.disabled = false; }
      }
    }, label);
    actions.replaceChildren(
      button("Cancel", "/cancel", live || r.status === "paused"),
      button("Pause", "/pause", live),
      button("Resume", "/resume", ["paused", "failed", "cancelled"].includes(r.status)));
  };

  const fieldInput = (f, idp) => {
    const id = idp + f.name;
    let input;
    if (f.type === "enum") {
      input = el("select", { id, name: f.name }, (f.optional ? [""] : []).concat(f.enum).map(v => el("option", { value: v, selected: f.default === v, text: v || "(none)" })));
    } else if (f.type === "bool") {
      input = el("input", { id, name: f.name, type: "checkbox", checked: f.default === true });
    } else if (f.type === "int" || f.type === "float") {
      input = el("input", { id, name: f.name, type: "number", step: f.type === "int" ? "1" : "any", value: f.default ?? "", required: !f.optional && f.default === undefined });
    } else if (f.type === "string") {
      input = el("input", { id, name: f.name, type: "text", value: f.default ?? "", required: !f.optional && f.default === undefined });
    } else {
      input = el("textarea", { id, name: f.name, rows: 3, placeholder: "JSON", "data-json": "1" }, f.default !== undefined ? JSON.stringify(f.default) : "");
    }
    input.dataset.type = f.type;
    return el("div", { class: "field" }, el("label", { for: id, text: f.name + (f.optional ? " (optional)" : "") }), input);
  };

  const readFields = (form, fields) => {
    const out = {};
    for (const f of fields || []) {
      const input = form.elements[f.name];
      if (!input) continue;
      if (f.type === "bool") { out[f.name] = input.checked; continue; }
      const v = input.value;
      if (v === "" && (f.optional || f.default !== undefined)) continue;
      if (f.type === "int") out[f.name] = parseInt(v, 10);
      else if (f.type === "float") out[f.name] = parseFloat(v);
      else if (input.dataset.json) {
        try { out[f.name] = JSON.parse(v); } catch { throw new Error(f.name + ": not valid JSON"); }
      } else out[f.name] = v;
    }
    return out;
  };

  const renderWaiting = () => {
    waiting.replaceChildren();
    for (const w of detail.waiting || []) {
      const idp = "w-" + (w.node + (w.scope || "")).replace(/[^A-Za-z0-9_-]/g, "_") + "-";
      const box = el("div", { class: "wait wait-" + w.kind, "data-node": w.node });
      box.append(el("h2", {}, w.kind === "approval" ? "Approval: " : w.kind === "event" ? "Event: " : "Timer: ", w.title || w.node),
        el("p", { class: "meta" }, "node ", el("code", { text: w.node + (w.scope ? " " + w.scope : "") }),
          w.since ? " · waiting since " + ago(w.since) : "", w.deadline ? " · deadline " + ago(w.deadline) : "",
          w.child_run_id ? el("span", {}, " · in child run ", el("a", { href: "#/runs/" + encodeURIComponent(w.child_run_id), text: w.child_run_id })) : null));
      if (w.kind === "approval" && !w.child_run_id) {
        const form = el("form", { class: "approval-form", "aria-label": "Decide " + (w.title || w.node) });
        for (const f of w.fields || []) form.append(fieldInput(f, idp));
        form.append(el("div", { class: "field" }, el("label", { for: idp + "note", text: "Note (optional)" }), el("input", { id: idp + "note", name: "__note", type: "text" })));
        const decide = async (approve) => {
          let body;
          try {
            body = { scope: w.scope || "", note: form.elements["__note"].value };
            if (approve) body.fields = readFields(form, w.fields);
          } catch (e) { toast(e.message); return; }
          try {
            await api("POST", `/runs/${encodeURIComponent(detail.run.id)}/approvals/${encodeURIComponent(w.node)}/${approve ? "approve" : "deny"}`, body);
            toast((approve ? "Approved " : "Denied ") + (w.title || w.node), "ok");
            await refresh();
          } catch (e) { toast(e.message); }
        };
        form.addEventListener("submit", (ev) => { ev.preventDefault(); decide(true); });
        form.append(el("div", { class: "buttons" },
          el("button", { type: "submit", class: "primary", text: "Approve" }),
          el("button", { type: "button", class: "danger", onclick: () => decide(false), text: "Deny" })));
        box.append(form);
      } else if (w.kind === "event") {
        const form = el("form", { class: "signal-form", "aria-label": "Send signal " + w.signal });
        const ta = el("textarea", { id: idp + "data", name: "data", rows: 3, text: "{}" });
        form.append(el("div", { class: "field" }, el("label", { for: idp + "data", text: "Signal " + w.signal + " data (JSON)" }), ta),
          el("div", { class: "buttons" }, el("button", { type: "submit", class: "primary", text: "Send signal" })));
        form.addEventListener("submit", async (ev) => {
          ev.preventDefault();
          let data;
          try { data = JSON.parse(ta.value || "null"); } catch { toast("The signal data is not valid JSON"); return; }
          try {
            await api("POST", `/runs/${encodeURIComponent(detail.run.id)}/signals/${encodeURIComponent(w.signal)}`, { data });
            toast("Sent " + w.signal, "ok");
            await refresh();
          } catch (e) { toast(e.message); }
        });
        box.append(form);
      } else if (w.command) {
        box.append(el("p", {}, "From a shell: ", el("code", { text: w.command })));
      }
      waiting.append(box);
    }
  };

  const colour = () => {
    // A node inside a for or loop has one instance per element: the
    // graph shows the "worst" state of its instances, counted by the
    // server over all of them (node_states; nodes is paged).
    const rank = { failed: 6, running: 5, waiting: 4, cancelled: 3, pending: 2, skipped: 1, finished: 0 };
    const states = new Map();
    const worse = (id, st) => {
      const old = states.get(id);
      if (!old || (rank[st] ?? 0) > (rank[old] ?? 0)) states.set(id, st);
    };
    if (detail.node_states) {
      for (const [id, counts] of Object.entries(detail.node_states)) {
        for (const [st, n] of Object.entries(counts)) if (n > 0) worse(id, st);
      }
    } else {
      for (const n of detail.nodes) worse(n.id, n.state);
    }
    for (const g of graph.querySelectorAll("g[data-node]")) {
      const st = states.get(g.dataset.node);
      g.setAttribute("class", g.getAttribute("class").replace(/\s*state-\S+/g, "") + (st ? " state-" + st : ""));
      g.classList.toggle("selected", g.dataset.node === selected);
    }
  };

  const renderPanel = () => {
    if (!selected) return;
    side.replaceChildren(el("h2", {}, el("code", { text: selected })));
    if (detail.node !== selected) {
      // The run's detail holds the selected node's instances only when it
      // was asked for them (?node=): ask, and draw once it answers.
      side.append(el("p", { text: "Loading…" }));
      refresh();
      return;
    }
    const inst = detail.nodes.filter(n => n.id === selected);
    const mine = events.filter(e => e.node === selected);
    const r = detail.run;
    if (!inst.length) side.append(el("p", { text: "Not started yet (pending)." }));
    if (detail.nodes_omitted > 0) {
      side.append(el("p", { class: "omitted", text: `The first and last ${Math.floor(inst.length / 2)} of ${detail.node_count} instances; ${detail.nodes_omitted} between them are not shown.` }));
    }
    for (const n of inst) {
      const sec = el("section", { class: "instance" },
        el("h3", {}, n.scope ? el("code", { text: n.scope }) : "", " ", badge(n.state)),
        el("dl", {},
          el("dt", { text: "Attempts" }), el("dd", { text: n.attempts ?? 0 }),
          n.duration_ms !== undefined ? [el("dt", { text: "Duration" }), el("dd", { text: dur(n.duration_ms) })] : null,
          n.session_id ? [el("dt", { text: "Session" }), el("dd", {}, el("code", { text: n.session_id }))] : null,
          n.tokens ? [el("dt", { text: "Tokens" }), el("dd", { text: `${n.tokens.input || 0} in · ${n.tokens.output || 0} out` + (n.tokens.cache ? ` · ${n.tokens.cache} cached` : "") })] : null,
          n.cost_usd ? [el("dt", { text: "Cost" }), el("dd", { text: "$" + n.cost_usd.toFixed(4) })] : null,
          n.child_run_id ? [el("dt", { text: "Child run" }), el("dd", {}, el("a", { href: "#/runs/" + encodeURIComponent(n.child_run_id), text: n.child_run_id }))] : null),
        n.error ? el("pre", { class: "error", text: n.error }) : null,
        n.output !== undefined && n.output !== null ? el("details", { open: true }, el("summary", { text: "Output" }), el("pre", { class: "json", text: JSON.stringify(n.output, null, 2) })) : null,
        (n.attempt_list || []).length ? el("table", { class: "attempts" },
          el("thead", {}, el("tr", {}, ["#", "State", "Started", "Duration", "Error"].map(h => el("th", { scope: "col", text: h })))),
          el("tbody", {}, n.attempt_list.map(a => el("tr", {}, el("td", { text: a.number }), el("td", {}, badge(a.state)), el("td", { text: ago(a.started_at) }), el("td", { text: dur(a.duration_ms) }), el("td", { text: a.error || "" }))))) : null);
      if (["failed", "finished", "cancelled", "skipped"].includes(n.state) && !["running", "waiting-approval", "waiting-event", "waiting-timer"].includes(r.status)) {
        sec.append(el("button", {
          type: "button", class: "retry", onclick: async (ev) => {
            ev.target.disabled = true;
            try { await api("POST", `/runs/${encodeURIComponent(r.id)}/nodes/${encodeURIComponent(n.id)}/retry`, {}); toast("Retrying " + n.id, "ok"); await refresh(); }
            catch (e) { toast(e.message); ev.target.disabled = false; }
          }
        }, "Retry from this node"));
      }
      if (["failed", "finished", "cancelled", "skipped"].includes(n.state) && !r.parent_run_id) {
        // A new run that keeps what came before this node (smithc fork).
        sec.append(el("button", {
          type: "button", class: "fork", onclick: async (ev) => {
            ev.target.disabled = true;
            try {
              const f = await api("POST", `/runs/${encodeURIComponent(r.id)}/fork`, { from: n.id });
              toast("Forked into " + f.run_id, "ok");
              location.hash = "#/runs/" + encodeURIComponent(f.run_id);
            } catch (e) { toast(e.message); ev.target.disabled = false; }
          }
        }, "Fork a new run from this node"));
      }
      side.append(sec);
    }
    if (mine.length) {
      side.append(el("h3", { text: "Log" }), el("ol", { class: "log" }, mine.slice(-100).map(logLine)));
    }
  };

  const logLine = (e) => el("li", {}, el("time", { datetime: e.time, text: new Date(e.time).toLocaleTimeString() }), " ",
    el("span", { class: "kind", text: e.kind }), " ", e.node ? el("code", { text: e.node + (e.scope ? " " + e.scope : "") }) : "", " ",
    e.text ? el("span", { class: "text", text: e.text }) : "");

  let refreshing = null;
  const refresh = async () => {
    if (refreshing) return refreshing;
    refreshing = (async () => {
      const asked = selected;
      try {
        const next = await api("GET", "/runs/" + encodeURIComponent(id) + (asked ? "?node=" + encodeURIComponent(asked) : ""));
        // Elapsed times tick; what is drawn changes only with the rest.
        const key = (d) => JSON.stringify(d, (k, v) => (k === "elapsed_ms" || k === "duration_ms" ? undefined : v));
        const changed = key(next) !== key(detail);
        detail = next;
        if (!changed) return;
        renderHead(); renderWaiting(); colour(); renderPanel();
      } catch (e) { toast(e.message); }
      finally {
        refreshing = null;
        // The selection changed while the request was out: ask for the
        // node selected now.
        if (selected !== asked) refresh();
      }
    })();
    return refreshing;
  };

  renderHead(); renderWaiting();
  try {
    graph.innerHTML = await api("GET", "/runs/" + encodeURIComponent(id) + "/graph");
  } catch (e) { graph.textContent = "No graph: " + e.message; }
  graph.addEventListener("click", (ev) => {
    const g = ev.target.closest("g[data-node]");
    if (!g) return;
    selected = g.dataset.node; colour(); renderPanel();
  });
  graph.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    const g = ev.target.closest("g[data-node]");
    if (!g) return;
    ev.preventDefault();
    selected = g.dataset.node; colour(); renderPanel();
  });
  colour();

  let timer = null;
  stream = new EventSource("/api/v1/runs/" + encodeURIComponent(id) + "/stream");
  stream.addEventListener("open", () => setConn("live"));
  stream.addEventListener("error", () => setConn("reconnecting…"));
  stream.addEventListener("event", (m) => {
    const e = JSON.parse(m.data);
    events.push(e);
    log.append(logLine(e));
    if (selected && e.node === selected) {
      let nodeLog = side.querySelector("ol.log");
      if (!nodeLog) { side.append(el("h3", { text: "Log" })); nodeLog = side.appendChild(el("ol", { class: "log" })); }
      nodeLog.append(logLine(e));
    }
    clearTimeout(timer);
    timer = setTimeout(refresh, 100);
  });
}

function route() {
  const h = location.hash.replace(/^#/, "") || "/";
  const [path, query] = h.split("?");
  const params = new URLSearchParams(query || "");
  const m = path.match(/^\/runs\/(.+)$/);
  if (m) showRun(decodeURIComponent(m[1]));
  else showRuns(params);
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);
