"use client";
// The README's Next.js pattern: the client is made in the browser only, by <RealtimeProvider
// create>, so prerendering never loads the wasm. The test contract (tests/bundlers/lib.mjs):
// `?server=&order=&outbox=`, testids status, joined, event, enqueued; and `patched`, the data
// of a TanStack useQuery that an event patches through bindQueryClient.
import { useEffect, useState } from "react";
import init, { connect } from "wiresync";
import { RealtimeProvider, useClient, useConnectionState, useEvent } from "wiresync/react";
import { bindQueryClient } from "wiresync/tanstack";
import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";

const params = () => new URLSearchParams(window.location.search);

async function create() {
  await init();
  return connect({
    url: params().get("server"),
    auth: { token: "good" },
    reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
    outbox: { name: params().get("outbox") },
  });
}

export default function Live() {
  const [queryClient] = useState(() => new QueryClient());
  return (
    <QueryClientProvider client={queryClient}>
      <RealtimeProvider create={create} fallback={<p data-testid="status">loading</p>}>
        <Orders queryClient={queryClient} />
      </RealtimeProvider>
    </QueryClientProvider>
  );
}

function Orders({ queryClient }) {
  const client = useClient();
  const { status } = useConnectionState();
  const [order] = useState(() => params().get("order"));
  const [joined, setJoined] = useState("");
  const [event, setEvent] = useState("");
  const [enqueued, setEnqueued] = useState("");
  useEffect(() => bindQueryClient(client, queryClient), [client, queryClient]);
  useEffect(() => client.patchOn("order:status_update", ["order", "{orderId}"]), [client]);
  useEffect(() => {
    const room = client.subscribe("order", { orderId: order });
    room.ready.then(() => setJoined("yes"));
    client.outbox.enqueue("note:add", { text: "from a Next.js app" }).then(({ id }) => setEnqueued(id));
    return () => room.unsubscribe();
  }, [client, order]);
  useEvent("order:status_update", (p) => setEvent(`${p.orderId} ${p.status}`));
  const query = useQuery({ queryKey: ["order", order], queryFn: () => ({ status: "unknown" }), staleTime: Infinity });
  return (
    <ul>
      <li data-testid="status">{status}</li>
      <li data-testid="joined">{joined}</li>
      <li data-testid="event">{event}</li>
      <li data-testid="patched">{query.data?.status ?? ""}</li>
      <li data-testid="enqueued">{enqueued}</li>
    </ul>
  );
}
