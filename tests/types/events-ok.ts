// wiresync/events: the events-only client is typed like the full one, without the outbox and
// the cache (each @ts-expect-error below must be an error).
import init, { connect } from "../../pkg/events.js";

interface Listen {
  "order:status_update": { orderId: string; status: string };
}
interface Emit {
  "chat:send_message": { chatId: string; text: string };
}

await init();
const client = connect<Listen, Emit>({ url: "http://127.0.0.1:3000", reconnect: { maxAttempts: 5 } });
const off = client.on("order:status_update", (p) => p.status.toUpperCase());
off();
client.emit("chat:send_message", { chatId: "c1", text: "hi" });
const sub = client.subscribe("order", { orderId: "1" });
await sub.ready;
client.close();

// @ts-expect-error no outbox in wiresync/events
client.outbox.enqueue("chat:send_message", { chatId: "c1", text: "hi" });
// @ts-expect-error no cache in wiresync/events
client.cache.getQueryData(["order", "1"]);
// @ts-expect-error the outbox option belongs to the full entry
connect({ url: "http://127.0.0.1:3000", outbox: { name: "x" } });
// @ts-expect-error payloads are typed
client.emit("chat:send_message", { chatId: 1 });
