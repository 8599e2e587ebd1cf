// wiresync demo page: plain ES modules, no framework, no build step.
import init, { connect } from "/pkg/index.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
const clock = (iso) => {
  const d = iso ? new Date(iso) : new Date();
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour12: false });
};

const ORDER_ID = "ord_1001";
const CHAT_ID = "chat_1";
const LOG_SIZE = 20;

// ---------------------------------------------------------------------------------------------
// Connect
// ---------------------------------------------------------------------------------------------

let client;
try {
  await init();
  client = connect({
    url: location.origin,
    auth: { token: "demo" },
    // Shorter than the default 16 s ceiling so the demo comes back quickly after "down".
    reconnect: { maxDelayMs: 4000 },
  });
} catch (e) {
  showFatal(e);
  throw e;
}
window.wiresyncDemo = { client }; // handy in the devtools console

// ---------------------------------------------------------------------------------------------
// Connection banner
// ---------------------------------------------------------------------------------------------

const STATUS_TEXT = {
  idle: () => "idle",
  connecting: () => "connecting…",
  open: () => "connected",
  reconnecting: (s) => `reconnecting (attempt ${s.attempt})`,
  offline: () => "offline",
  closed: () => "closed",
};

function renderState(s) {
  $("banner").dataset.status = s.status;
  $("status").textContent = (STATUS_TEXT[s.status] ?? (() => s.status))(s);
  $("recovered").hidden = !(s.status === "open" && s.recovered);
  $("last-error").textContent = s.error ? `${s.error.code}: ${s.error.message}` : "";
  $("reconnect").disabled = false;
  $("close").disabled = s.status === "closed";
}

client.onState(renderState);
renderState(client.state);

function showFatal(e) {
  document.body.dataset.fatal = "1"; // keeps index.html's script onerror from overwriting this
  $("banner").dataset.status = "closed";
  $("status").textContent = "failed to load";
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

client.onAny((event, payload) => {
  const list = $("event-log");
  const [channel] = event.split(":");
  list.prepend(
    el("li", { className: `ev ev-${channel}` },
      el("time", { textContent: clock() }),
      el("span", { className: "name", textContent: event }),
      el("span", { className: "payload", textContent: summarize(payload) })),
  );
  while (list.children.length > LOG_SIZE) list.lastElementChild.remove();
});

function summarize(payload) {
  if (payload === undefined) return "";
  const text = JSON.stringify(payload);
  return text.length > 140 ? `${text.slice(0, 137)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// Order tracking
// ---------------------------------------------------------------------------------------------

const STEPS = ["confirmed", "preparing", "out_for_delivery", "delivered"];
const STATUS_LABEL = {
  confirmed: "Confirmed",
  preparing: "Preparing",
  out_for_delivery: "Out for delivery",
  delivered: "Delivered",
};

const order = client.subscribe("order", { orderId: ORDER_ID });
order.ready.then(
  (ack) => { $("order-room").textContent = `joined room ${ack?.room ?? `order:${ORDER_ID}`}; re-joined automatically after an unrecovered reconnect`; },
  (e) => { $("order-room").textContent = `could not join: ${e.code ?? ""} ${e.message}`; },
);

client.on("order:status_update", (u) => {
  if (u.orderId !== ORDER_ID) return;
  $("order-status").textContent = STATUS_LABEL[u.status] ?? u.status;
  $("order-status").dataset.status = u.status;
  $("order-message").textContent = u.message;
  const at = STEPS.indexOf(u.status);
  document.querySelectorAll(".steps li").forEach((li, i) => {
    li.classList.toggle("done", at >= 0 && i < at);
    li.classList.toggle("current", i === at);
  });
});

let maxDistance = 0;
client.on("order:location_update", (u) => {
  if (u.orderId !== ORDER_ID) return;
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
  $("order-updated").textContent = `last update ${clock(u.timestamp)}`;
});

client.on("order:eta_update", (u) => {
  if (u.orderId !== ORDER_ID) return;
  const delay = u.delayMinutes ? ` (+${u.delayMinutes} min)` : "";
  $("order-eta").textContent = `${clock(u.estimatedArrival)}${delay}`;
});

const formatDistance = (m) => (m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`);

// ---------------------------------------------------------------------------------------------
// Support chat
// ---------------------------------------------------------------------------------------------

function addChatMessage(who, text, timestamp, mine) {
  const log = $("chat-log");
  log.querySelector(".empty")?.remove();
  log.append(
    el("div", { className: `msg ${mine ? "mine" : "agent"}` },
      el("div", { className: "meta", textContent: `${who} · ${clock(timestamp)}` }),
      el("div", { className: "text", textContent: text })),
  );
  log.scrollTop = log.scrollHeight;
}

$("chat-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = $("chat-input");
  const message = input.value.trim();
  if (!message) return;
  const timestamp = new Date().toISOString();
  try {
    // Sent now when open, buffered until the next connect otherwise.
    client.emit("chat:send_message", { chatId: CHAT_ID, message, timestamp });
  } catch (e) {
    $("last-error").textContent = `${e.code ?? e.name}: ${e.message}`;
    return;
  }
  addChatMessage("You", message, timestamp, true);
  input.value = "";
});

client.on("chat:typing", (t) => {
  if (t.chatId !== CHAT_ID) return;
  $("typing").hidden = !t.isTyping;
  $("typing").textContent = `${t.userName} is typing…`;
});

client.on("chat:message", (m) => {
  if (m.chatId !== CHAT_ID) return;
  addChatMessage(m.senderName, m.text, m.timestamp, m.senderType === "user");
});

// ---------------------------------------------------------------------------------------------
// Leaderboard
// ---------------------------------------------------------------------------------------------

client.on("leaderboard:update", (board) => {
  const rows = board.entries.map((e) =>
    el("tr", {},
      el("td", { textContent: String(e.rank) }),
      el("td", { textContent: e.fullName }),
      el("td", { className: "num", textContent: e.coins.toLocaleString() }),
      el("td", { className: "num", textContent: String(e.achievements) }),
      el("td", {}, el("span", { className: `tier tier-${e.tier}`, textContent: e.tier }))),
  );
  $("leaderboard").tBodies[0].replaceChildren(...rows);
});

// ---------------------------------------------------------------------------------------------
// Controls
// ---------------------------------------------------------------------------------------------

async function serverControl(action) {
  const hint = $("server-state");
  try {
    const res = await fetch(`/demo/${action}`, { method: "POST" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.json();
    hint.textContent = body.down
      ? `server down: ${body.dropped} connection(s) dropped, new ones refused`
      : "server up: accepting connections";
  } catch (e) {
    hint.textContent = `/demo/${action} failed: ${e.message}`;
  }
}

$("down").addEventListener("click", () => serverControl("down"));
$("up").addEventListener("click", () => serverControl("up"));
$("reconnect").addEventListener("click", () => client.reconnect());
$("close").addEventListener("click", () => client.close());
