// Must compile: the TanStack bridge takes the real @tanstack/query-core QueryClient. Every
// `@ts-expect-error` line must be an error (tsc fails on an unused one).
import { QueryClient } from "@tanstack/query-core";
import { connect } from "../../pkg/index.js";
import { bindQueryClient, type BindOptions } from "../../pkg/tanstack.js";

interface Listen {
  "order:status_update": { orderId: string; status: string };
}

export function bind(): void {
  const client = connect({ url: "http://127.0.0.1:3000" });
  const unbind: () => void = bindQueryClient(client, new QueryClient());
  unbind();
  const typed = connect<Listen, {}>({ url: "http://127.0.0.1:3000" });
  const options: BindOptions = { refetchType: "none", refetchOnReconnect: false };
  bindQueryClient(typed, new QueryClient({ defaultOptions: { queries: { staleTime: 1000 } } }), options)();

  // @ts-expect-error the arguments are the wiresync client, then the QueryClient
  bindQueryClient(new QueryClient(), client);
  // @ts-expect-error refetchType is one of four words
  bindQueryClient(client, new QueryClient(), { refetchType: "sometimes" });
}
