// Must NOT compile: a wrong event name and a wrong payload against an event map.
import { connect } from "../../pkg/index.js";

interface Listen { "order:status_update": { orderId: string } }
interface Emit { "chat:send_message": { chatId: string; message: string } }

const client = connect<Listen, Emit>({ url: "http://127.0.0.1:3000" });
client.on("order:statsu_update", () => {});
client.emit("chat:send_message", { chatId: 42, message: "hi" });
