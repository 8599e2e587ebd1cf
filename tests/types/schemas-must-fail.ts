// Must NOT compile: the schema says `n` is a number, and the handler treats it as a string.
import { connect } from "../../pkg/index.js";

const client = connect({
  url: "http://127.0.0.1:3000",
  schemas: { listen: { "a:b": { type: "object", properties: { n: { type: "number" } }, required: ["n"] } } },
});
client.on("a:b", (p) => { const s: string = p.n; void s; });
