// No Google fonts, no analytics: the build runs offline.
export const metadata = { title: "wiresync in Next.js" };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
