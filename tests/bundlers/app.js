// The bundler test app (plain JS), the same for Vite and webpack: see tests/bundlers/lib.mjs for
// the contract it follows. It imports wiresync exactly as an app would.
import init, { connect } from "wiresync";

const params = new URLSearchParams(location.search);
const show = (id, text) => {
  document.querySelector(`[data-testid="${id}"]`).textContent = text;
};

await init();
const client = connect({
  url: params.get("server"),
  auth: { token: "good" },
  reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
  outbox: { name: params.get("outbox") },
});
client.onState((s) => show("status", s.status));
client.on("order:status_update", (p) => show("event", `${p.orderId} ${p.status}`));
client.subscribe("order", { orderId: params.get("order") }).ready.then(() => show("joined", "yes"));
const { id } = await client.outbox.enqueue("note:add", { text: "from a bundled app" });
show("enqueued", id);

// wiresync/shared resolves from the same package, and loads its own wasm from the bundle.
const shared = await import("wiresync/shared");
await shared.default();
const tabs = shared.connect({ url: params.get("server"), auth: { token: "good" }, outbox: false, shareAcrossTabs: true });
tabs.onState((s) => s.status === "open" && show("shared", `${s.shared.tabs} ${s.shared.leader}`));
