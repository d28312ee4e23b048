/**
 * Jupid Embed token endpoint as a Next.js App Router route handler:
 * `GET /api/jupid/embed-token` -> `{"token": "<jwt>"}` for the signed-in user.
 * Put JUPID_PARTNER_ID and JUPID_EMBED_SECRET in the server environment
 * (never NEXT_PUBLIC_*: the secret must not reach the browser bundle).
 */
import { signEmbedToken } from "@jupid/embed/server";
import { getSignedInUser } from "../../../../lib/session";

// Never pre-render or cache: every call mints a new single-use token.
// (signEmbedToken runs on the Node.js and the Edge runtime alike.)
export const dynamic = "force-dynamic";

export async function GET(request: Request): Promise<Response> {
  const user = await getSignedInUser(request);
  if (!user) {
    return Response.json({ error: "not signed in" }, { status: 401, headers: { "Cache-Control": "no-store" } });
  }
  const token = await signEmbedToken({
    partnerId: requireEnv("JUPID_PARTNER_ID"),
    secret: requireEnv("JUPID_EMBED_SECRET"),
    user: { id: user.id, email: user.email, name: user.name },
  });
  return Response.json({ token }, { headers: { "Cache-Control": "no-store" } });
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
