// The README's TypeScript snippets, kept compiling.
import init, { connect, type OrderStatusUpdate } from "../../pkg/index.js";

interface Listen { "order:status_update": OrderStatusUpdate }
interface Emit { "chat:send_message": { chatId: string; message: string; timestamp: string } }

export async function readme(getToken: () => Promise<string>): Promise<void> {
  await init();
  const client = connect<Listen, Emit>({ url: "https://api.example.com", auth: async () => ({ token: await getToken() }) });
  // @ts-expect-error not an event of Listen
  client.on("order:status_updated", () => {});
  client.patchOn("order:status_update", (p) => ["order", p.orderId],
    (old: Partial<OrderStatusUpdate> | undefined, p) => ({ ...old, status: p.status }));
  client.subscribe("order", { orderId: "123" });
  client.invalidateOn("order:status_update", [["order", "{orderId}"]]);
  const payload = { chatId: "c1", message: "hi", timestamp: new Date().toISOString() };
  await client.mutate({
    event: "chat:send_message",
    payload,
    optimistic: {
      key: ["chat", "c1"],
      update: (old: { text: string; pending?: boolean }[] | undefined, p) => [...(old ?? []), { text: p.message, pending: true }],
    },
  });
  client.cache.setQueryData<{ items: string[] }>(["cart"], (old) => ({ ...old, items: [] }));
}

// "Your own event schemas".
import { z } from "zod";

export async function readmeSchemas(): Promise<void> {
  await init();
  const client = connect({
    url: "https://api.example.com",
    schemas: {
      listen: {
        "order:status_update": {
          type: "object",
          properties: {
            orderId: { type: "string" },
            status: { enum: ["placed", "preparing", "delivered"] },
            eta: { type: ["string", "null"] },
          },
          required: ["orderId", "status"],
        },
      },
      emit: {
        "cart:add_line": z.object({ sku: z.string(), qty: z.number().int().positive() }),
      },
    },
  });
  client.on("order:status_update", (u) => {
    const s: "placed" | "preparing" | "delivered" = u.status;
    void s;
  });
  client.emit("cart:add_line", { sku: "A1", qty: 2 });
  // @ts-expect-error qty must be a number
  client.emit("cart:add_line", { sku: "A1", qty: "2" });
}
