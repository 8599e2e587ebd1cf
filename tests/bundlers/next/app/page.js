// A server component (prerendered at build time) that renders the client component.
import Live from "./live";

export default function Page() {
  return (
    <main>
      <h1>Orders</h1>
      <Live />
    </main>
  );
}
