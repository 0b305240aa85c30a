// The mockserver dashboard. Every action is a /__mock call a script could make; everything a
// request carried is written as text (textContent), never as markup. No dependencies.
"use strict";

const TOKEN_KEY = "mockserver.controlToken"; // sessionStorage: this tab only
const FAST_MS = 500; // journal, faults, clock: a new request shows within a second
const SLOW_EVERY = 4; // coverage and state every 4th round

const $ = (id) => document.getElementById(id);

class CallError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  const current = token();
  if (current) headers["X-Mock-Token"] = current;
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch("/__mock" + path, init);
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const error = data && typeof data === "object" && data.error ? data.error : {};
    throw new CallError(response.status, error.message || String(text || response.statusText), error.code);
  }
  return data;
}

function show(id, message) {
  $(id).textContent = message || "";
}

function pretty(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

// -- the token ------------------------------------------------------------------------------------
function askForToken(message) {
  $("main").hidden = true;
  $("token-panel").hidden = false;
  show("token-error", message);
  $("token-input").focus();
}

$("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token-input").value);
  $("token-input").value = "";
  await start();
});

// -- the journal ----------------------------------------------------------------------------------
let journal = [];
let journalSignature = "";
let selectedId = null;

function journalQuery() {
  const params = new URLSearchParams({ limit: "200" });
  for (const name of ["api", "method", "path", "status", "tenant"]) {
    const value = $("filter-" + name).value.trim();
    if (value) params.set(name, value);
  }
  return params.toString();
}

async function refreshJournal() {
  let data;
  try {
    data = await call("GET", "/requests?" + journalQuery());
    show("journal-error", "");
  } catch (error) {
    if (error.status === 401) throw error;
    show("journal-error", error.message);
    return;
  }
  journal = data.requests;
  show("journal-total", `${data.total} matching`);
  const signature = journal.map((entry) => entry.id).join(",") + "|" + data.total;
  if (signature === journalSignature) return;
  journalSignature = signature;
  const rows = journal
    .slice()
    .reverse()
    .map((entry) =>
      el(
        "tr",
        { "data-id": entry.id, className: entry.id === selectedId ? "selected" : null },
        el("td", {}, el("button", { type: "button", className: "link", "aria-label": `Show request ${entry.id}`, onclick: () => showDetail(entry.id) }, entry.id)),
        el("td", {}, entry.time.slice(11, 19)),
        el("td", {}, entry.api),
        el("td", { className: "path" }, `${entry.method} ${entry.path}`),
        el("td", { className: statusClass(entry.status) }, entry.status === null ? "dropped" : entry.status),
        el("td", { className: "wide" }, entry.faultId || ""),
        el("td", { className: "wide" }, entry.durationMs),
      ),
    );
  $("journal-table").tBodies[0].replaceChildren(...rows);
}

// A detail pane's summary (name, value pairs) and its header table, written as text.
function fillDetail(summaryId, pairs, headersId, headers) {
  $(summaryId).replaceChildren(...pairs.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  $(headersId).tBodies[0].replaceChildren(
    ...Object.entries(headers).map(([name, value]) => el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, value))),
  );
}

function statusClass(status) {
  if (status === null || status >= 500) return "status bad";
  if (status >= 400) return "status warn";
  return "status ok";
}

function showDetail(id) {
  const entry = journal.find((item) => item.id === id);
  if (!entry) return;
  selectedId = id;
  for (const row of $("journal-table").tBodies[0].rows) row.classList.toggle("selected", row.dataset.id === String(id));
  $("detail-title").textContent = `Request ${entry.id}: ${entry.method} ${entry.path}`;
  const summary = [
    ["Time", entry.time],
    ["API", entry.api],
    ["Tenant", entry.tenant || "none"],
    ["Query", Object.keys(entry.query).length ? JSON.stringify(entry.query) : "none"],
    ["Status", entry.status === null ? "dropped: no answer" : entry.status],
    ["Fault", entry.faultId || "none"],
    ["Duration", `${entry.durationMs} ms`],
  ];
  fillDetail("detail-summary", summary, "detail-headers", entry.headers);
  $("detail-body").textContent = entry.body === null ? "(no body)" : pretty(entry.body);
  $("request-detail").hidden = false;
  $("request-detail").focus();
}

$("detail-close").addEventListener("click", () => {
  $("request-detail").hidden = true;
  const button = document.querySelector(`#journal-table tr[data-id="${selectedId}"] button`);
  selectedId = null;
  if (button) button.focus();
});

$("journal-filters").addEventListener("input", () => {
  journalSignature = "";
  refreshJournal().catch(handleFailure);
});
$("journal-filters").addEventListener("submit", (event) => event.preventDefault());
$("journal-clear").addEventListener("click", () => act(() => call("DELETE", "/requests"), "journal-error"));

// -- deliveries -----------------------------------------------------------------------------------
let attempts = [];
let deliveriesSignature = "";
let selectedDelivery = null;

async function refreshDeliveries() {
  let data;
  try {
    data = await call("GET", "/deliveries?limit=200");
    show("deliveries-error", "");
  } catch (error) {
    if (error.status === 401) throw error;
    show("deliveries-error", error.message);
    return;
  }
  attempts = data.attempts;
  show("deliveries-total", `${data.total} attempts, ${data.pending} pending`);
  const signature = JSON.stringify(attempts.map((item) => [item.id, item.state, item.status, item.response && item.response.status]));
  if (signature === deliveriesSignature) return;
  deliveriesSignature = signature;
  const rows = attempts
    .slice()
    .reverse()
    .map((item) =>
      el(
        "tr",
        { "data-id": item.id, "data-delivery": item.deliveryId, className: item.deliveryId === selectedDelivery ? "selected" : null },
        el("td", {}, el("button", { type: "button", className: "link", "aria-label": `Show delivery ${item.deliveryId}, attempt ${item.attempt}`, onclick: () => showDelivery(item.deliveryId) }, `${item.id} (#${item.attempt})`)),
        el("td", {}, (item.dueAt || "").slice(11, 19)),
        el("td", {}, item.api),
        el("td", {}, item.event),
        el("td", { className: "path" }, item.webhookId),
        el("td", { className: "state" }, item.state),
        el("td", { className: item.response ? statusClass(item.response.status) : "status" }, item.response ? item.response.status : ""),
        el("td", { className: "wide" }, item.error || ""),
      ),
    );
  $("deliveries-table").tBodies[0].replaceChildren(...rows);
  if (selectedDelivery && !$("delivery-detail").hidden) await showDelivery(selectedDelivery, false);
}

async function showDelivery(id, focus = true) {
  let delivery;
  try {
    delivery = await call("GET", "/deliveries/" + encodeURIComponent(id));
  } catch (error) {
    if (error.status === 401) return handleFailure(error);
    show("deliveries-error", error.message);
    return;
  }
  selectedDelivery = id;
  for (const row of $("deliveries-table").tBodies[0].rows) row.classList.toggle("selected", row.dataset.delivery === id);
  // The latest attempt that was sent shows its request and answer; a pending retry has neither yet.
  const sent = delivery.attempts.filter((item) => item.sentAt);
  const last = sent[sent.length - 1] || delivery.attempts[delivery.attempts.length - 1] || {};
  $("delivery-title").textContent = `Delivery ${delivery.id}: ${delivery.event} to ${delivery.webhookId}`;
  const summary = [
    ["State", delivery.state],
    ["Event", delivery.eventId],
    ["URL", last.url || ""],
    ["Attempts", delivery.attempts.map((item) => `#${item.attempt} ${item.trigger} ${item.state}`).join(", ")],
    ["Signature valid", last.signatureValid === null || last.signatureValid === undefined ? "not sent yet" : last.signatureValid ? "yes" : "no"],
    ["Next attempt", last.nextAttemptAt || "none"],
  ];
  const request = last.request;
  fillDetail("delivery-summary", summary, "delivery-headers", request ? request.headers : {});
  $("delivery-body").textContent = request ? pretty(request.body) : "(not built yet)";
  const response = last.response;
  $("delivery-answer").textContent = response ? `${response.status} in ${last.durationMs} ms` : last.error ? `no answer: ${last.error}` : "no answer yet";
  $("delivery-response").textContent = response ? response.body : "";
  $("delivery-detail").hidden = false;
  if (focus) $("delivery-detail").focus();
}

$("delivery-redeliver").addEventListener("click", async () => {
  if (!selectedDelivery) return;
  try {
    const attempt = await call("POST", `/deliveries/${encodeURIComponent(selectedDelivery)}/redeliver`);
    show("delivery-result", `Redelivered as ${attempt.id} (attempt ${attempt.attempt}).`);
    deliveriesSignature = "";
    await refreshDeliveries();
  } catch (error) {
    if (error.status === 401) return handleFailure(error);
    show("delivery-result", error.message);
  }
});

$("delivery-close").addEventListener("click", () => {
  $("delivery-detail").hidden = true;
  const button = document.querySelector(`#deliveries-table tr[data-delivery="${selectedDelivery}"] button`);
  selectedDelivery = null;
  show("delivery-result", "");
  if (button) button.focus();
});
$("deliveries-clear").addEventListener("click", () => act(() => call("DELETE", "/deliveries"), "deliveries-error"));

// -- fault rules ----------------------------------------------------------------------------------
let faultsSignature = "";

async function refreshFaults() {
  const data = await call("GET", "/faults");
  const signature = JSON.stringify(data.faults);
  if (signature === faultsSignature) return;
  faultsSignature = signature;
  $("faults-table").tBodies[0].replaceChildren(
    ...data.faults.map((rule) =>
      el(
        "tr",
        { "data-id": rule.id },
        el("td", {}, rule.id),
        el("td", { className: "path" }, `${rule.api} ${rule.method} ${rule.path}${rule.tenant ? " tenant " + rule.tenant : ""}`),
        el("td", {}, rule.kind + (rule.status ? " " + rule.status : "") + (rule.delayMs ? ` +${rule.delayMs} ms` : "")),
        el("td", { className: "hits" }, rule.hits),
        el("td", {}, rule.remaining === null ? "∞" : rule.remaining),
        el("td", {}, el("button", { type: "button", "aria-label": `Remove rule ${rule.id}`, onclick: () => act(() => call("DELETE", "/faults/" + encodeURIComponent(rule.id)), "fault-error") }, "Remove")),
      ),
    ),
  );
}

function numberOrText(text) {
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

$("fault-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
  show("fault-error", "");
  const rule = {};
  for (const name of ["api", "method", "path", "kind"]) rule[name] = form.elements[name].value.trim();
  if (form.elements.tenant.value.trim()) rule.tenant = form.elements.tenant.value.trim();
  for (const name of ["status", "times", "after", "probability", "delayMs", "retryAfter"]) {
    const text = form.elements[name].value.trim();
    if (text === "" || (name === "status" && rule.kind !== "error")) continue;
    rule[name] = numberOrText(text);
  }
  try {
    await call("POST", "/faults", rule);
    faultsSignature = "";
    await refreshFaults();
  } catch (error) {
    if (error.status === 401) return handleFailure(error);
    // The server names each field it refuses: "status: Must be ...; times: ...".
    for (const part of error.message.split("; ")) {
      const [field, ...rest] = part.split(": ");
      const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
      if (slot && rest.length) slot.textContent = rest.join(": ");
      else show("fault-error", error.message);
    }
  }
});
$("faults-clear").addEventListener("click", () => act(() => call("DELETE", "/faults"), "fault-error"));

// -- the clock ------------------------------------------------------------------------------------
async function refreshClock() {
  const clock = await call("GET", "/clock");
  $("clock-now").textContent = clock.now;
  $("clock-frozen").textContent = clock.frozen ? "(frozen)" : "(running)";
}

$("clock-freeze").addEventListener("click", () => {
  const at = $("clock-at").value.trim();
  act(() => call("POST", "/clock", { freeze: at ? at : true }), "clock-error");
});
$("clock-advance").addEventListener("click", () =>
  act(() => call("POST", "/clock", { advance: numberOrText($("clock-seconds").value.trim()) }), "clock-error"),
);
$("clock-unfreeze").addEventListener("click", () => act(() => call("POST", "/clock", { unfreeze: true }), "clock-error"));

// -- scenarios ------------------------------------------------------------------------------------
async function loadScenarios() {
  const data = await call("GET", "/scenarios");
  $("scenario-list").replaceChildren(
    ...data.scenarios.map((scenario) =>
      el(
        "li",
        {},
        el("button", { type: "button", "aria-label": `Apply scenario ${scenario.name}`, onclick: () => applyScenario(scenario.name) }, "Apply"),
        " ",
        el("strong", {}, scenario.name),
        ": ",
        scenario.description,
      ),
    ),
  );
}

async function applyScenario(name) {
  try {
    const applied = await call("POST", "/scenarios/" + encodeURIComponent(name));
    show("scenario-result", `Applied ${applied.name}: ${(applied.faults || []).length} fault rules, ${(applied.entities || []).length} entities.`);
    await refreshAll(true);
  } catch (error) {
    if (error.status === 401) return handleFailure(error);
    show("scenario-result", error.message);
  }
}

// -- rate limits ----------------------------------------------------------------------------------
async function loadRateLimits() {
  const settings = await call("GET", "/rate-limits");
  const fields = [];
  for (const [api, values] of Object.entries(settings)) {
    for (const [name, value] of Object.entries(values)) {
      const id = `rl-${api}-${name}`;
      const input =
        typeof value === "boolean"
          ? el("input", { id, type: "checkbox", "data-api": api, "data-name": name, checked: value })
          : el("input", { id, inputmode: "numeric", "data-api": api, "data-name": name, value });
      fields.push(el("div", { className: "field" }, el("label", { for: id }, `${api} ${name}`), input));
    }
  }
  $("rate-limit-fields").replaceChildren(...fields);
}

$("rate-limit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {};
  for (const input of $("rate-limit-fields").querySelectorAll("input")) {
    const api = input.dataset.api;
    body[api] = body[api] || {};
    body[api][input.dataset.name] = input.type === "checkbox" ? input.checked : numberOrText(input.value.trim());
  }
  show("rate-limit-result", "");
  try {
    await call("PUT", "/rate-limits", body);
    show("rate-limit-error", "");
    show("rate-limit-result", "Saved.");
    await loadRateLimits();
  } catch (error) {
    if (error.status === 401) return handleFailure(error);
    show("rate-limit-error", error.message);
  }
});

// -- coverage and state ---------------------------------------------------------------------------
async function refreshCoverage() {
  const doc = await call("GET", "/coverage");
  const rows = [];
  for (const [api, found] of Object.entries(doc.apis)) {
    for (const operation of found.operations) {
      for (const answer of operation.answers) {
        const covered = answer.count > 0;
        rows.push(
          el(
            "tr",
            { className: covered ? "covered" : "uncovered" },
            el("td", {}, api),
            el("td", { className: "path" }, `${operation.method} ${operation.path}`),
            el("td", {}, answer.status),
            el("td", {}, answer.count),
            el("td", {}, answer.injected),
            el("td", {}, covered ? "yes" : "no"),
          ),
        );
      }
    }
  }
  $("coverage-table").tBodies[0].replaceChildren(...rows);
  const summary = doc.summary;
  show("coverage-summary", `Covered ${summary.covered} of ${summary.documented} documented answers (${summary.percent.toFixed(1)}%) since ${doc.since}.`);
}

async function refreshState() {
  const state = await call("GET", "/state");
  const rows = [];
  for (const [api, tenants] of Object.entries(state.apis || state)) {
    if (!tenants || typeof tenants !== "object") continue;
    for (const [tenant, counts] of Object.entries(tenants)) {
      const text = Object.entries(counts)
        .map(([collection, count]) => `${collection} ${count}`)
        .join(", ");
      rows.push(el("tr", {}, el("td", {}, api), el("td", { className: "path" }, tenant), el("td", {}, text)));
    }
  }
  $("state-table").tBodies[0].replaceChildren(...rows);
}

$("coverage-clear").addEventListener("click", () => act(() => call("DELETE", "/coverage"), "journal-error"));
$("reset").addEventListener("click", () => act(() => call("POST", "/reset"), "journal-error"));

// -- the loop -------------------------------------------------------------------------------------
let round = 0;
let timer = null;

async function act(action, errorId) {
  try {
    await action();
    show(errorId, "");
    await refreshAll(true);
  } catch (error) {
    if (error.status === 401) return handleFailure(error);
    show(errorId, error.message);
  }
}

async function refreshAll(everything) {
  await Promise.all([refreshJournal(), refreshDeliveries(), refreshFaults(), refreshClock()]);
  if (everything || round % SLOW_EVERY === 0) await Promise.all([refreshCoverage(), refreshState()]);
  round += 1;
}

function handleFailure(error) {
  if (error.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    clearTimeout(timer);
    askForToken("The server refused the control token.");
    return;
  }
  show("journal-error", error.message);
}

async function loop() {
  const began = Date.now();
  try {
    await refreshAll(false);
  } catch (error) {
    if (error.status === 401) return handleFailure(error);
    show("journal-error", error.message);
  }
  // One refresh every FAST_MS from start to start: a slow refresh shortens the wait after it, so
  // a new request still shows within a second.
  timer = setTimeout(loop, Math.max(0, FAST_MS - (Date.now() - began)));
}

async function start() {
  try {
    const health = await call("GET", "/health");
    show("server-info", `version ${health.version} · store ${health.store} · seed ${health.seed}`);
    await refreshJournal();
  } catch (error) {
    if (error.status === 401) {
      const hadToken = token() !== null;
      sessionStorage.removeItem(TOKEN_KEY);
      askForToken(hadToken ? "That token was refused." : "");
      return;
    }
    show("server-info", error.message);
    return;
  }
  $("token-panel").hidden = true;
  $("main").hidden = false;
  await Promise.all([loadScenarios(), loadRateLimits()]).catch(handleFailure);
  clearTimeout(timer);
  loop();
}

start();
