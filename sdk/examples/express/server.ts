/**
 * Wiring the token endpoint into an Express app (illustration; adapt the
 * session middleware to whatever your app uses). Run: `npx tsx server.ts`.
 */
import express from "express";
import { embedTokenRoute } from "./embed-token.ts";

interface AppUser {
  id: string;
  email: string;
  displayName: string;
  plan: string;
}

const app = express();

// Your existing authentication sets req.user (passport, express-session, ...).
// app.use(yourSessionMiddleware);

app.get(
  "/api/jupid/embed-token",
  embedTokenRoute<express.Request & { user?: AppUser }>({
    partnerId: process.env.JUPID_PARTNER_ID ?? "acme-books",
    secret: requireEnv("JUPID_EMBED_SECRET"),
    currentUser: (req) =>
      req.user && { id: req.user.id, email: req.user.email, name: req.user.displayName, payload: { plan: req.user.plan } },
  }),
);

app.listen(3000, "127.0.0.1");

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
