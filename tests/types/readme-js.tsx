/// <reference path="./react-shim.d.ts" />
// The README's JavaScript snippets, as a TypeScript app would paste them (`--strict`): each in
// its own function, in README order. Only the app's own names are declared here, and the
// snippets' `…` placeholders are filled with `{}`. The metro.config.js and server snippets are
// not app code and are not here.
import init, { connect, type Client } from "../../pkg/index.js";
import initEvents, { connect as connectEvents } from "../../pkg/events.js";
import initMetro from "../../pkg/metro.js";
import initShared, { connect as connectShared } from "../../pkg/shared.js";
import { bindQueryClient } from "../../pkg/tanstack.js";
import { RealtimeProvider, useConnectionState, useEvent, useOutboxStatus, useQueryData } from "../../pkg/react.js";
import { QueryClient } from "@tanstack/react-query";

declare function getToken(): Promise<string>;
declare function show(text: string): void;
declare const banner: { render(...args: unknown[]): void };
declare const token: string;
declare const input: HTMLInputElement;
declare const img: HTMLImageElement;
declare function badge(n: number): void;
declare function render(...args: unknown[]): void;
declare const url: string;
declare const auth: { token: string };
declare const line: CartLine;
declare const body: { name: string };
declare function fetchOrder(id: string): Promise<{ status: string }>;
declare function toast(text: string): void;
interface Order { id: string; status: string }
interface Cart { items: string[] }
interface Profile { name: string }
type CartLine = { sku: string; qty: number };
// The app's own event maps (TypeScript section): events outside the catalog, typed.
interface Listen { "chat:photo": { data: ArrayBuffer } }
interface Emit {
  "chat:send_photo": { chatId: string; name: string; data: Blob };
  "cart:add_line": { cartId: string; line: CartLine };
}
type AppClient = Client<import("../../pkg/index.js").DefaultListenEvents & Listen, import("../../pkg/index.js").DefaultEmitEvents & Emit>;

// Top of the README.
export async function intro() {
  await init();                                     // loads the wasm once
  const client = connect({ url: "https://api.example.com", auth: async () => ({ token: await getToken() }) });
  client.subscribe("order", { orderId: "123" });                             // a room, re-joined after reconnects
  client.invalidateOn("order:status_update", [["order", "{orderId}"]]);     // events keep the cache fresh
  client.on("chat:message", (m) => show(m.text));                            // typed payloads
  const payload = { chatId: "c1", message: "hi", timestamp: new Date().toISOString() };
  await client.mutate({ event: "chat:send_message", payload,                 // durable, optimistic
    optimistic: { key: ["chat", "c1"], update: (old, p) => [...(old ?? []), { text: p.message, pending: true }] } });
}

// Quick start (JavaScript).
export async function quickStart() {
  await init();                               // loads the wasm once; safe to call again
  const client = connect({
    url: "https://api.example.com",           // http(s) is mapped to ws(s)
    auth: async () => ({ token: await getToken() }),   // runs before every (re)connect
  });

  const off = client.on("order:status_update", (update, meta) => {
    console.log(update.orderId, update.status);        // typed from the catalog
  });
  client.onState((s) => banner.render(s.status, s.attempt, s.error?.message));   // changes only;
  banner.render(client.state.status);                                             // the state now
  client.onError((e) => console.warn(e.code, e.event, e.message));

  const room = client.subscribe("order", { orderId: "123" });  // emits subscribe:order {orderId}
  await room.ready;                                   // the server's ack

  client.emit("chat:send_message", { chatId: "c1", message: "hi", timestamp: new Date().toISOString() });
  const reply = await client.emitWithAck("echo", { ping: 1 }, { timeoutMs: 2000 });

  off();                 // every on/once/onAny/onState/onError returns its unsubscribe function
  room.unsubscribe();
  client.close();        // never reconnects (until client.reconnect())
  client.dispose();      // or: close and free it (a logout, tests); queued entries stay stored
  void reply;
}

// Events only.
export async function eventsOnly() {
  await initEvents();
  const client = connectEvents({ url: "https://api.example.com", auth: { token } });
  client.on("order:status_update", (update) => console.log(update.status));
  await client.subscribe("order", { orderId: "123" }).ready;
}

// Expo web.
export async function metro() {
  await initMetro();   // no URL: the bytes are in the bundle
}

// Binary payloads (`input.files[0]` written `input.files![0]`: the DOM types allow null).
export async function binary(client: AppClient) {
  const file = input.files![0];   // a File is a Blob
  await client.mutate({ event: "chat:send_photo", payload: { chatId: "c1", name: file.name, data: file } });
  client.on("chat:photo", (p) => { img.src = URL.createObjectURL(new Blob([p.data])); });   // p.data: ArrayBuffer
  const echoed = await client.emitWithAck("echo", { bytes: new Uint8Array([1, 2, 3]) });   // echoed.bytes: ArrayBuffer
  void echoed;
}

// The durable outbox.
export async function outbox(client: Client) {
  const { id } = await client.outbox.enqueue("chat:send_message",
    { chatId: "c1", message: "on my way", timestamp: new Date().toISOString() },
    { dedupeKey: undefined, lane: "chat", ttlMs: 3_600_000 });      // all options optional
  await client.outbox.enqueueRequest({ url: "/api/cart", method: "POST",
    headers: { "content-type": "application/json" }, body: { sku: "A1", qty: 2 } });

  client.outbox.status();   // { pending, inFlight, failed, processing, lastError, persistence }
  const off = client.outbox.onChange((s) => badge(s.pending + s.inFlight));
  client.outbox.onDelivered((entry) => {}); client.outbox.onFailed((entry) => {});
  client.outbox.onDropped((entry, reason) => {});            // "capacity" or "replaced"
  client.outbox.list(); client.outbox.failed();
  client.outbox.retry(id); client.outbox.remove(id); await client.outbox.clear(); client.outbox.flush();
  void off;
}

// The query cache.
export async function cache(client: Client) {
  // Rules: templates are filled from the event's payload; no JavaScript runs per event.
  client.invalidateOn("order:status_update", [["orders"], ["order", "{orderId}"]]);
  client.patchOn("order:status_update", ["order-status", "{orderId}"]);          // payload becomes the data
  client.patchOn("order:status_update", (p) => ["order", p.orderId],
    (old: Partial<Order> | undefined, p) => ({ ...old, status: p.status }));   // cached data: your type

  // Queries
  const stop = client.cache.observe(["orders"], { queryFn: () => fetch("/api/orders").then((r) => r.json()),
    staleTime: 30_000, gcTime: 300_000 }, (state) => render(state.data, state.isFetching));
  client.cache.setQueryData<Cart>(["cart"], (old) => ({ ...old, items: [] }));
  client.cache.getQueryData(["cart"]);
  client.cache.getQueriesData({ queryKey: ["order"], predicate: (q) => (q.state.data as Order)?.status === "new" });
  client.cache.findAll({ queryKey: ["order"], stale: true });   // [{ queryKey, queryHash, state }]
  await client.cache.invalidateQueries({ queryKey: ["orders"], exact: false, refetchType: "active" });
  client.cache.removeQueries({ queryKey: ["feed"] });
  const unwatch = client.cache.watch({ queryKey: ["orders"] }, (keys) => console.log("touched", keys));
  void [stop, unwatch];
}

// Persistence and tabs.
export async function persistence() {
  const client = connect({
    url, auth,
    cache: { persist: { maxAgeMs: 24 * 3600_000, buster: "v3" } },   // or persist: true
  });
  await client.cache.ready;                 // stored queries are back (at once without persist)
  client.cache.persistence;                 // "off" | "loading" | "indexeddb" | "memory"
}

// Optimistic mutations.
export async function optimistic(client: AppClient) {
  // At start-up, so pending layers come back after a reload (`cart:add_line` typed in your Emit map):
  client.optimisticOn("cart:add_line", {
    key: ["cart", "{cartId}"],                         // template, key, or payload => key
    update: (old, p) => ({ ...old, lines: [...(old?.lines ?? []), p.line] }),
    strategy: "client-wins",                           // default
  });

  await client.mutate({ event: "cart:add_line", payload: { cartId: "c1", line } });   // shows at once, offline too
  await client.mutate({ request: { url: "/api/profile", method: "PATCH", body },      // HTTP, same idea
    optimistic: { key: ["profile"], update: (old: Profile | undefined) => ({ ...old, ...body }) } });
  client.pendingMutations(["cart", "c1"]);             // [{ id, payload, at }], oldest first
}

// Bridges.
export function bridge(client: Client) {
  const queryClient = new QueryClient();
  const unbind = bindQueryClient(client, queryClient);   // options: { refetchType, refetchOnReconnect = true }
  client.invalidateOn("order:status_update", [["orders"], ["order", "{orderId}"]]);   // now drives queryClient
  void unbind;
}

export function hooks(client: Client) {
  function App() {
    return <RealtimeProvider client={client}><Order id="123" /></RealtimeProvider>;
  }
  function Order({ id }: { id: string }) {
    const conn = useConnectionState();                       // { status, attempt, error, recovered, resync }
    const outbox = useOutboxStatus();                        // { pending, inFlight, failed, ... }
    const order = useQueryData(["order", id], { queryFn: () => fetchOrder(id), staleTime: 10_000 });
    useEvent("chat:message", (m) => toast(m.text));          // latest handler, no resubscribe per render
    return <p>{conn.status} · {order.data?.status ?? "loading"} · {outbox?.pending ?? 0} queued</p>;
  }
  return App;
}

// One connection for every tab (`wiresync/shared`).
export async function sharedTabs() {
  await initShared();
  const client = connectShared({ url: "https://api.example.com", auth: async () => ({ token: await getToken() }),
    shareAcrossTabs: true });
  client.subscribe("order", { orderId: "123" });     // joined once for every tab that asks
  client.on("order:status_update", (u) => show(u.status));  // the same API in every tab
  client.onState((s) => show(`${s.status}: ${s.shared?.tabs} tab(s) share it; this one ${s.shared?.leader ? "holds it" : "follows"}`));
}

// Running on a cluster.
export async function cluster() {
  await init();
  const client = connect({
    url: ["https://rt-a.example.com", "https://rt-b.example.com"], // or one balanced URL
    transports: ["websocket", "polling"],   // polling where a proxy refuses WebSockets
    auth: async () => ({ token: await getToken() }),
  });
  client.onState((s) => console.log(s.status, s.url, s.transport, s.recovered));
  const next = connect({ url: (previous) => (previous === "https://rt-a.example.com" ? "https://rt-b.example.com" : "https://rt-a.example.com") });
  next.close();
}
