// Must compile: typed usage of the public API. Every `@ts-expect-error` line must be an error
// (tsc fails on an unused `@ts-expect-error`), so each proves a mistake is caught.
import init, { connect, type Client, type ConnectionState, type WiresyncError, type OrderStatusUpdate } from "../../pkg/index.js";

interface Listen {
  "order:status_update": { orderId: string; status: "preparing" | "delivered" };
  "chat:message": { text: string };
}
interface Emit {
  "chat:send_message": { chatId: string; message: string; timestamp: string };
}

export async function typed(): Promise<void> {
  await init();
  const client: Client<Listen, Emit> = connect<Listen, Emit>({ url: "http://127.0.0.1:3000", auth: { token: "t" } });
  const off: () => void = client.on("order:status_update", (p) => {
    const s: "preparing" | "delivered" = p.status;
    void s;
  });
  off();
  client.emit("chat:send_message", { chatId: "c", message: "hi", timestamp: "t" });
  const ack = await client.emitWithAck<"chat:send_message", { ok: boolean }>("chat:send_message", { chatId: "c", message: "m", timestamp: "t" }, { timeoutMs: 500 });
  const ok: boolean = ack.ok;
  void ok;
  client.onState((s: ConnectionState) => void s.recovered);
  client.onError((e: WiresyncError) => void e.code);
  const room = client.subscribe("order", { orderId: "1" });
  await room.ready;
  room.unsubscribe();

  // @ts-expect-error unknown event name
  client.on("order:status_updated", () => {});
  // @ts-expect-error wrong payload field type
  client.emit("chat:send_message", { chatId: 1, message: "hi", timestamp: "t" });
  // @ts-expect-error missing payload field
  client.emit("chat:send_message", { chatId: "c" });
  client.on("chat:message", (p) => {
    // @ts-expect-error no such field on the payload
    void p.body;
  });
  // @ts-expect-error the url is required
  connect({ protocol: "json" });
  // @ts-expect-error protocol is "socket.io" or "json"
  connect({ url: "x", protocol: "mqtt" });
}

export async function cacheTypes(): Promise<void> {
  const client = connect({ url: "http://127.0.0.1:3000" });
  client.cache.setQueryData<{ total: number }>(["cart"], (old) => ({ total: (old?.total ?? 0) + 1 }));
  const n: number = await client.cache.invalidateQueries({ queryKey: ["orders"], refetchType: "none" });
  void n;
  const off = client.cache.observe(["feed"], { queryFn: async () => [1, 2], staleTime: 1000 }, (s) => void s.data?.length);
  off();
  client.invalidateOn("order:status_update", [["order", "{orderId}"]]);
  client.patchOn("order:status_update", (p) => ["order", p.orderId], (old: { status?: string } | undefined, p) => ({ ...old, status: p.status }));
  // @ts-expect-error refetchType is one of four words
  void client.cache.invalidateQueries({ refetchType: "sometimes" });
  // @ts-expect-error the payload of a catalog event is typed in rules too
  client.invalidateOn("order:status_update", (p) => [["order", p.orderID]]);
}

export function catalogDefaults(): void {
  const client = connect({ url: "http://127.0.0.1:3000" });
  client.on("order:status_update", (p: OrderStatusUpdate) => void p.orderId);
  client.on("order:location_update", (p) => {
    const lat: number = p.location.latitude;
    void lat;
  });
  // @ts-expect-error catalog payloads are typed even without an event map
  client.on("order:location_update", (p) => void (p.location.latitude as string));
  client.on("some:custom_event", (p) => void p);
}

interface CartEmit {
  "cart:add_line": { cartId: string; item: string };
}

export async function mutationTypes(): Promise<void> {
  const client = connect<Listen, CartEmit>({
    url: "http://127.0.0.1:3000",
    cache: { name: "shop", persist: { maxAgeMs: 3_600_000, buster: "v2" }, broadcast: true, gcTimeMs: 60_000 },
  });
  await client.cache.ready;
  const where: "off" | "loading" | "indexeddb" | "memory" = client.cache.persistence;
  void where;
  client.optimisticOn("cart:add_line", {
    key: (p) => ["cart", p.cartId],
    update: (old: string[] | undefined, p) => [...(old ?? []), p.item],
    strategy: "newest-wins",
  });
  const { id } = await client.mutate({
    event: "cart:add_line",
    payload: { cartId: "c1", item: "tea" },
    optimistic: { key: ["cart", "c1"], update: (old: string[] | undefined, p) => [...(old ?? []), p.item] },
    dedupeKey: "tea",
  });
  void id;
  await client.mutate({ request: { url: "/api/cart", body: { item: "tea" } }, optimistic: { key: ["cart"], update: (old: string[] | undefined) => old ?? [] } });
  const pending: { id: string; at: number }[] = client.pendingMutations(["cart", "c1"]);
  void pending;
  const found: [readonly unknown[], { total: number } | undefined][] = client.cache.getQueriesData<{ total: number }>({
    queryKey: ["order"],
    predicate: (q) => q.state.isStale,
  });
  void found;
  // @ts-expect-error the mutation's payload is typed by the emit map
  await client.mutate({ event: "cart:add_line", payload: { cartId: "c1" } });
  // @ts-expect-error a strategy is one of four words
  client.optimisticOn("cart:add_line", { key: ["cart"], update: (o) => o, strategy: "last-wins" });
  // @ts-expect-error persist is a boolean or options
  connect({ url: "x", cache: { persist: "yes" } });
}

// url lists and functions, transports, and the state's url and transport.
{
  const c = connect({ url: ["http://a:1", "http://b:2"], transports: ["polling", "websocket"] });
  const t: "websocket" | "polling" | null = c.state.transport;
  const u: string = c.state.url;
  void t, u;
  connect({ url: (previous: string | undefined) => previous ?? "http://a:1" });
  // @ts-expect-error not a transport
  connect({ url: "http://a:1", transports: ["xhr-polling"] });
  // @ts-expect-error a list of URLs, not of numbers
  connect({ url: [1, 2] });
}
