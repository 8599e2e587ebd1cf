/// <reference path="./react-shim.d.ts" />
// The README's React quick start (a .tsx file, as Vite and Next.js apps have), kept compiling
// under --strict. Only `getToken`, `fetchOrder` and `Order` are the app's own, declared here.
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import init, { connect } from "../../pkg/index.js";
import { bindQueryClient } from "../../pkg/tanstack.js";
import { RealtimeProvider, useConnectionState, useEvent, useOutboxStatus } from "../../pkg/react.js";

declare function getToken(): Promise<string>;
interface Order { id: string; status: string }
declare function fetchOrder(id: string): Promise<Order>;

// ---- from the README ----
const queryClient = new QueryClient();

// Called by the provider in an effect: in the browser only, never during server rendering.
async function createClient() {
  await init();
  const client = connect({ url: "https://api.example.com", auth: async () => ({ token: await getToken() }) });
  bindQueryClient(client, queryClient);                      // rules below now drive queryClient
  client.patchOn("order:status_update", (p) => ["order", p.orderId],
    (old: Order | undefined, p) => ({ ...old, id: p.orderId, status: p.status }));
  client.invalidateOn("order:status_update", [["orders"]]);  // the list refetches if it is on screen
  client.subscribe("order", { orderId: "123" });              // the server emits to room "order:123"
  return client;
}

function OrderView({ id }: { id: string }) {
  const { data } = useQuery({ queryKey: ["order", id], queryFn: () => fetchOrder(id) });
  const conn = useConnectionState();                        // { status, attempt, error, recovered, resync }
  const outbox = useOutboxStatus();                         // { pending, inFlight, failed, ... }
  const [typing, setTyping] = useState(false);
  useEvent("chat:typing", (t) => setTyping(t.isTyping));
  return <p>{data?.status} · {conn.status} · {outbox?.pending ?? 0} to send {typing && "· typing…"}</p>;
}

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <RealtimeProvider create={createClient} fallback={<p>Connecting…</p>}>
        <OrderView id="123" />
      </RealtimeProvider>
    </QueryClientProvider>
  );
}

createRoot(document.getElementById("root")!).render(<App />);
