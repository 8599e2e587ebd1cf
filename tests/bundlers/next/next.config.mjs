// Nothing wiresync-specific: the package must work with Next's defaults (Turbopack and webpack).
// The root is set only because this app sits inside another npm project (tests/).
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
export default { turbopack: { root }, outputFileTracingRoot: root };
