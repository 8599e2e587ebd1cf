/// <reference path="./react-shim.d.ts" />
// The README's Next.js client component, kept compiling under --strict.
import { useState } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import init, { connect } from "../../pkg/index.js";
import { RealtimeProvider, useConnectionState } from "../../pkg/react.js";

declare const process: { env: Record<string, string | undefined> };

async function createClient() {
  await init();                              // runs in the browser only (an effect)
  return connect({ url: process.env.NEXT_PUBLIC_REALTIME_URL! });
}

function Status() {
  return <p>{useConnectionState().status}</p>;
}

export default function Live() {
  const [queryClient] = useState(() => new QueryClient());
  return (
    <QueryClientProvider client={queryClient}>
      <RealtimeProvider create={createClient} fallback={<p>Connecting…</p>}>
        <Status />
      </RealtimeProvider>
    </QueryClientProvider>
  );
}
