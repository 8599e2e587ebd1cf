// wiresync demo page: plain ES modules, no framework, no build step.
//
// What reads what:
//   - the order card, the orders list, the leaderboard and the chat render from client.cache
//     (observe + a queryFn on the demo server's JSON API); event rules keep them current;
//   - chat messages are sent with client.mutate: queued in the durable outbox, shown at once as
//     an optimistic layer over the chat query, confirmed when the server acks;
//   - the banner renders client.state, the outbox panel client.outbox, the inspector the cache.
import init, { connect } from "/pkg/shared.js"; // "wiresync/shared": shareAcrossTabs below
import { $, el, clock, outboxPanel, cacheInspector } from "/panels.js";

const ORDER_ID = "ord_1001";
const CHAT_ID = "chat_1";
const LOG_SIZE = 20;

// ?maxAttempts=2 makes "failed" quick to reach (the smoke test uses it).
const maxAttempts = Number(new URLSearchParams(location.search).get("maxAttempts")) || 10;

let client;
try {
  await init();
  client = connect({
    url: location.origin,
    auth: { token: "demo" },
    // Shorter than the default 16 s ceiling so the demo comes back quickly after "down", and a
    // finite number of attempts so "failed" (and its Retry button) can be seen.
    reconnect: { maxDelayMs: 4000, maxAttempts },
    outbox: { name: "wiresync-demo", retry: { initialDelayMs: 500, maxDelayMs: 5000 } },
    // Every tab of the demo shares one WebSocket (the banner says how many tabs do).
    shareAcrossTabs: true,
  });
} catch (e) {
  showFatal(e);
  throw e;
}
window.wiresyncDemo = { client }; // handy in the devtools console

const getJson = async (url) => {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
};

// ---------------------------------------------------------------------------------------------
// Event rules: how events keep the cache current (the UI below only reads the cache)
// ---------------------------------------------------------------------------------------------

// Patched: the event carries the new state, so the cached order is updated in place.
client.patchOn("order:status_update", ["order", "{orderId}"], (old, u) =>
  old && { ...old, status: u.status, message: u.message, estimatedArrival: u.estimatedDelivery ?? null, updatedAt: u.timestamp });
client.patchOn("order:eta_update", ["order", "{orderId}"], (old, u) =>
  old && { ...old, estimatedArrival: u.estimatedArrival, delayMinutes: u.delayMinutes ?? 0, updatedAt: u.timestamp });
// Template only: the payload becomes the data, no JavaScript runs per event.
client.patchOn("order:location_update", ["order", "{orderId}", "location"]);
client.patchOn("leaderboard:update", ["leaderboard", "{period}"]);
// Invalidated: the list is refetched from /api/orders when a status changes.
client.invalidateOn("order:status_update", [["orders"]]);

// The chat: a server message is appended (once: a resent message comes back with its id).
// `old` is what the cache shows, optimistic messages included, so those are left out here:
// they are layers, not server data (see sentMessage below).
client.patchOn("chat:message", ["chat", "{chatId}"], (old, m) => {
  // `old` is the server's data (beneath any optimistic layers); not fetched yet: the fetch brings it.
  if (!old) return undefined;
  return old.some((x) => x.messageId === m.messageId) ? old : [...old, m];
});

// A sent message shows at once as a layer over ["chat", chatId], until the server acks it (the
// layer is lifted; the server's copy has arrived as a chat:message by then) or it fails (rolled
// back). Registered at start-up, so messages still queued after a reload show again. The server's
// copy may land beneath the layer before the ack: the layer then adds nothing.
const sameMessage = (m, p) => m.senderType === "user" && m.timestamp === p.timestamp && m.text === p.message;
client.optimisticOn("chat:send_message", {
  key: ["chat", "{chatId}"],
  update: (old = [], p) => (old.some((m) => sameMessage(m, p)) ? old : [...old, sentMessage(p)]),
});

function sentMessage(p) {
  return {
    messageId: `pending:${p.timestamp}`,
    chatId: p.chatId,
    senderId: "user_1",
    senderName: "You",
    senderType: "user",
    text: p.message,
    timestamp: p.timestamp,
    pending: true,
    // A photo being sent: its bytes (a Blob, kept in the outbox's IndexedDB record) shown from
    // memory until the server's copy arrives.
    ...(p.image ? { attachments: [{ type: "image", url: blobUrl(p.image.data), name: p.image.name }] } : {}),
  };
}

const blobUrls = new WeakMap();
/** One object URL per Blob (or typed array, after a reload) for as long as it is in use. */
function blobUrl(data) {
  if (!blobUrls.has(data)) blobUrls.set(data, URL.createObjectURL(data instanceof Blob ? data : new Blob([data])));
  return blobUrls.get(data);
}

// Rooms: joined now, re-joined after a reconnect that did not recover the session.
client.subscribe("order", { orderId: ORDER_ID });
client.subscribe("chat", { chatId: CHAT_ID });

// ---------------------------------------------------------------------------------------------
// Panels
// ---------------------------------------------------------------------------------------------

const inspect = cacheInspector(client, $("inspector"));
const describeEntry = (e) => (e.event === "chat:send_message" ? `“${e.payload?.message ?? ""}”` : e.event ?? `${e.method} ${e.url}`);
const renderOutbox = outboxPanel(client, document.querySelector(".card.outbox"), describeEntry);

// ---------------------------------------------------------------------------------------------
// Connection banner
// ---------------------------------------------------------------------------------------------

function view(s) {
  if (!navigator.onLine || s.status === "offline") return "offline";
  if (s.status === "closed") return s.error ? "failed" : "closed";
  if (s.status === "open") return "connected";
  if (s.status === "reconnecting") return "reconnecting";
  return "connecting";
}

const BANNER = {
  connecting: () => "Connecting…",
  connected: () => "Connected",
  reconnecting: (s) => `Reconnecting · attempt ${s.attempt}`,
  offline: () => "Offline · waiting for the network",
  // The error says how many attempts were made ("gave up after 10 attempts"); state.attempt is
  // one more than that once it gave up.
  failed: () => "Connection failed",
  closed: () => "Disconnected",
};
const RETRY_LABEL = { reconnecting: "Retry now", failed: "Retry", closed: "Reconnect" };

let lastStatus = null;
function renderState(s = client.state) {
  const v = view(s);
  const banner = $("banner");
  banner.dataset.status = s.status;
  banner.dataset.view = v;
  banner.dataset.attempt = s.attempt;
  $("status").textContent = BANNER[v](s);
  $("recovered").hidden = !(s.status === "open" && s.recovered);
  const tabs = s.shared?.tabs ?? 1;
  $("tabs").textContent = `${tabs} ${tabs === 1 ? "tab" : "tabs"} · ${s.shared?.leader === false ? "this one follows" : "this one holds the connection"}`;
  $("tabs").dataset.tabs = tabs;
  $("tabs").dataset.leader = s.shared?.leader !== false;
  $("last-error").textContent = s.error && s.status !== "open" ? `${s.error.code}: ${s.error.message}` : "";
  $("retry").hidden = !RETRY_LABEL[v];
  $("retry").textContent = RETRY_LABEL[v] ?? "";
  if (s.status !== lastStatus) {
    if (s.status === "open" && lastStatus !== null) {
      logLine("state", "connected", s.recovered
        ? "session recovered: missed events replayed, nothing refetched"
        : "new session: rooms re-joined, active queries refetched");
    } else if (s.status === "reconnecting" || s.status === "closed" || s.status === "offline") {
      logLine("state", s.status, s.error ? `${s.error.code}: ${s.error.message}` : "");
    }
    lastStatus = s.status;
  }
}

client.onState((s) => renderState(s));
addEventListener("online", () => renderState());
addEventListener("offline", () => renderState());
$("retry").addEventListener("click", () => client.reconnect());
renderState();

function showFatal(e) {
  document.body.dataset.fatal = "1"; // keeps index.html's script onerror from overwriting this
  $("banner").dataset.view = "failed";
  $("status").textContent = "Failed to load";
  $("last-error").textContent = `${e?.code ?? e?.name ?? "Error"}: ${e?.message ?? e}`;
}

// ---------------------------------------------------------------------------------------------
// Errors and the event log
// ---------------------------------------------------------------------------------------------

let errorCount = 0;
client.onError((e) => {
  const list = $("errors");
  if (errorCount++ === 0) list.replaceChildren();
  list.prepend(
    el("li", {},
      el("time", { textContent: clock() }), " ",
      el("code", { textContent: e.code }), " ",
      e.message,
      e.event ? el("span", { className: "muted", textContent: ` (${e.event})` }) : ""),
  );
  while (list.children.length > 5) list.lastElementChild.remove();
});

client.onAny((event, payload) => logLine(event.split(":")[0], event, summarize(payload)));

function logLine(kind, name, text) {
  const list = $("event-log");
  list.prepend(
    el("li", { className: `ev ev-${kind}` },
      el("time", { textContent: clock() }),
      el("span", { className: "name", textContent: name }),
      el("span", { className: "payload", textContent: text })),
  );
  while (list.children.length > LOG_SIZE) list.lastElementChild.remove();
}

function summarize(payload) {
  if (payload === undefined) return "";
  const text = JSON.stringify(payload);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// Order tracking (from the cache)
// ---------------------------------------------------------------------------------------------

const STEPS = ["confirmed", "preparing", "out_for_delivery", "delivered"];
const STATUS_LABEL = {
  confirmed: "Confirmed",
  preparing: "Preparing",
  out_for_delivery: "Out for delivery",
  delivered: "Delivered",
};
const statusLabel = (s) => STATUS_LABEL[s] ?? s;

client.cache.observe(["order", ORDER_ID], { queryFn: () => getJson(`/api/orders/${ORDER_ID}`), staleTime: 60_000 }, (q) => {
  inspect();
  const o = q.data;
  if (!o) {
    $("order-status").textContent = q.error ? "unavailable" : "loading…";
    $("order-message").textContent = q.error ?? "";
    return;
  }
  $("order-status").textContent = statusLabel(o.status);
  $("order-status").dataset.status = o.status;
  $("order-message").textContent = o.message;
  $("order-items").textContent = `${o.items} · ${o.total}`;
  const delay = o.delayMinutes ? ` (+${o.delayMinutes} min)` : "";
  $("order-eta").textContent = o.estimatedArrival ? `${clock(o.estimatedArrival)}${delay}` : o.status === "delivered" ? "arrived" : "–";
  const at = STEPS.indexOf(o.status);
  document.querySelectorAll(".steps li").forEach((li, i) => {
    li.classList.toggle("done", at >= 0 && i < at);
    li.classList.toggle("current", i === at);
  });
});

let maxDistance = 0;
client.cache.observe(["order", ORDER_ID, "location"], { queryFn: () => getJson(`/api/orders/${ORDER_ID}/location`), staleTime: 60_000 }, (q) => {
  inspect();
  const u = q.data;
  if (!u) return;
  const { latitude, longitude, address } = u.location;
  const parts = [`${latitude.toFixed(5)}, ${longitude.toFixed(5)}`];
  if (address) parts.push(address);
  if (u.distanceToDestination != null) parts.push(`${formatDistance(u.distanceToDestination)} away`);
  if (u.deliveryPartner) parts.push(`${u.deliveryPartner.name}${u.deliveryPartner.vehicle ? ` · ${u.deliveryPartner.vehicle}` : ""}`);
  $("order-location").textContent = parts.join(" · ");
  if (u.distanceToDestination != null) {
    maxDistance = Math.max(maxDistance, u.distanceToDestination);
    const done = maxDistance > 0 ? 1 - u.distanceToDestination / maxDistance : 1;
    document.querySelector(".route").style.setProperty("--progress", `${(done * 100).toFixed(1)}%`);
  }
});

const formatDistance = (m) => (m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`);

client.cache.observe(["orders"], { queryFn: () => getJson("/api/orders"), staleTime: 60_000 }, (q) => {
  inspect();
  if (!q.data) return showError($("orders"), q.error);
  const rows = q.data.map((o) =>
    el("tr", {},
      el("td", {}, el("code", { textContent: o.orderId })),
      el("td", { textContent: o.items }),
      el("td", {}, el("span", { className: `pill pill-${o.status}`, textContent: statusLabel(o.status) })),
      el("td", { className: "muted small", textContent: new Date(o.placedAt).toLocaleDateString() })));
  $("orders").tBodies[0].replaceChildren(...rows);
  $("orders").classList.toggle("refetching", q.isFetching);
});

/** A table whose query has no data: "loading…", or why it could not load. */
function showError(table, error) {
  const cell = el("td", { className: "muted", colSpan: 5, textContent: error ? `unavailable: ${error}` : "loading…" });
  table.tBodies[0].replaceChildren(el("tr", {}, cell));
}

// ---------------------------------------------------------------------------------------------
// Leaderboard (from the cache)
// ---------------------------------------------------------------------------------------------

client.cache.observe(["leaderboard", "daily"], { queryFn: () => getJson("/api/leaderboard?period=daily"), staleTime: 60_000 }, (q) => {
  inspect();
  if (!q.data) return showError($("leaderboard"), q.error);
  const rows = q.data.entries.map((e) =>
    el("tr", {},
      el("td", { textContent: String(e.rank) }),
      el("td", { textContent: e.fullName }),
      el("td", { className: "num", textContent: e.coins.toLocaleString() }),
      el("td", { className: "num", textContent: String(e.achievements) }),
      el("td", {}, el("span", { className: `tier tier-${e.tier}`, textContent: e.tier }))));
  $("leaderboard").tBodies[0].replaceChildren(...rows);
});

// ---------------------------------------------------------------------------------------------
// Support chat (from the cache, sent through the outbox)
// ---------------------------------------------------------------------------------------------

let chatMessages = [];
client.cache.observe(["chat", CHAT_ID], { queryFn: () => getJson(`/api/chats/${CHAT_ID}/messages`), staleTime: 60_000 }, (q) => {
  inspect();
  if (q.data) chatMessages = q.data;
  renderChat();
});
client.outbox.onChange(() => renderChat());
client.onState(() => renderChat());

function renderChat() {
  const log = $("chat-log");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const online = client.state.status === "open";
  const bubbles = chatMessages.map((m) => bubble(m.senderType === "user" ? "mine" : "agent", m.senderName, m.text, m.timestamp,
    m.pending ? "pending" : "confirmed", m.senderType !== "user" ? "" : m.pending ? (online ? "sending…" : "queued") : "✓ delivered",
    m.attachments?.find((a) => a.type === "image")));
  // Failed messages are no longer in the chat (their layer was rolled back): shown with Retry.
  for (const e of client.outbox.failed()) {
    if (e.event !== "chat:send_message" || e.payload?.chatId !== CHAT_ID) continue;
    const b = bubble("mine", "You", e.payload.message, e.payload.timestamp, "failed", "not delivered");
    const retry = el("button", { type: "button", className: "link", textContent: "Retry" });
    retry.addEventListener("click", () => client.outbox.retry(e.id));
    b.querySelector(".meta").append(" · ", retry);
    bubbles.push(b);
  }
  log.replaceChildren(...bubbles);
  if (bubbles.length === 0) log.append(el("p", { className: "muted small empty", textContent: "Say hi to Sam from support." }));
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function bubble(side, who, text, timestamp, state, note, image) {
  const b = el("div", { className: `msg ${side} ${state}` },
    el("div", { className: "meta", textContent: `${who} · ${clock(timestamp)}${note ? ` · ${note}` : ""}` }),
    el("div", { className: "text", textContent: text }));
  if (image) b.append(el("img", { src: image.url, alt: image.name ?? "photo" }));
  b.dataset.state = state;
  return b;
}

$("chat-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = $("chat-input");
  const message = input.value.trim();
  if (!message) return;
  input.value = "";
  try {
    // Shows at once (the optimistic layer), stored in IndexedDB before this resolves, delivered
    // in order once connected.
    await client.mutate({ event: "chat:send_message", payload: { chatId: CHAT_ID, message, timestamp: new Date().toISOString() }, lane: "chat" });
  } catch (e) {
    input.value = message;
    $("last-error").textContent = `${e.code ?? e.name}: ${e.message}`;
  }
});

// A photo: sent as binary (a Socket.IO binary event; no base64), queued in the outbox like any
// message: stored with its bytes in IndexedDB, shown at once, delivered in order, after a
// reload too. The demo server turns it into an image attachment of the chat:message it echoes.
$("chat-image").addEventListener("change", async (ev) => {
  const file = ev.target.files?.[0];
  ev.target.value = "";
  if (!file) return;
  if (file.size > 512 * 1024) {
    $("last-error").textContent = "the demo sends photos up to 512 KB";
    return;
  }
  const payload = { chatId: CHAT_ID, message: `Photo: ${file.name}`, timestamp: new Date().toISOString(), image: { name: file.name, type: file.type, data: file } };
  try {
    await client.mutate({ event: "chat:send_message", payload, lane: "chat" });
  } catch (e) {
    $("last-error").textContent = `${e.code ?? e.name}: ${e.message}`;
  }
});

client.on("chat:typing", (t) => {
  if (t.chatId !== CHAT_ID) return;
  $("typing").hidden = !t.isTyping;
  $("typing").textContent = `${t.userName} is typing…`;
});

// ---------------------------------------------------------------------------------------------
// Server down / up
// ---------------------------------------------------------------------------------------------

function renderServer(down) {
  const button = $("server-toggle");
  button.dataset.down = String(down);
  button.textContent = down ? "Bring server up" : "Take server down";
  button.classList.toggle("danger", !down);
  $("server-state").textContent = down
    ? "Down: connections are refused. Messages sent now wait in the outbox."
    : "Drops every connection and refuses new ones until brought back up.";
}

$("server-toggle").addEventListener("click", async () => {
  const button = $("server-toggle");
  const action = button.dataset.down === "true" ? "up" : "down";
  button.disabled = true;
  try {
    const res = await fetch(`/demo/${action}`, { method: "POST" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    renderServer((await res.json()).down);
  } catch (e) {
    $("server-state").textContent = `/demo/${action} failed: ${e.message}`;
  } finally {
    button.disabled = false;
  }
});

getJson("/demo/state").then((s) => renderServer(s.down), () => {});
renderOutbox();
