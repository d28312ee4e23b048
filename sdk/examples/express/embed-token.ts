/**
 * Jupid Embed token endpoint for Express (4 or 5): `GET /api/jupid/embed-token`
 * -> `{"token": "<jwt>"}` for the signed-in user, minted fresh on every call.
 *
 * Mount it behind your own authentication; see ./server.ts for the wiring.
 * The secret stays on the server: load it from your secret store / env.
 */
import { type EmbedUser, signEmbedToken } from "@jupid/embed/server";

/** The slice of Express's `req`/`res` this handler uses (structural, so it fits Express 4 and 5 types). */
export interface TokenRequest {
  readonly user?: unknown;
}
export interface TokenResponse {
  status(code: number): TokenResponse;
  set(field: string, value: string): TokenResponse;
  json(body: unknown): unknown;
}

export interface EmbedTokenRouteOptions<Req extends TokenRequest> {
  /** Your Jupid partner id (e.g. `acme-books`). */
  readonly partnerId: string;
  /** The signing secret from Jupid's handover, e.g. `process.env.JUPID_EMBED_SECRET`. */
  readonly secret: string;
  /** Who is signed in on your side; undefined = nobody (the endpoint answers 401). */
  readonly currentUser: (req: Req) => EmbedUser | undefined | Promise<EmbedUser | undefined>;
}

/** `app.get("/api/jupid/embed-token", embedTokenRoute({...}))` */
export function embedTokenRoute<Req extends TokenRequest>(options: EmbedTokenRouteOptions<Req>) {
  return async (req: Req, res: TokenResponse): Promise<void> => {
    // Tokens must never be cached by the browser or a proxy: each one signs in once.
    res.set("Cache-Control", "no-store");
    const user = await options.currentUser(req);
    if (!user) {
      res.status(401).json({ error: "not signed in" });
      return;
    }
    try {
      const token = await signEmbedToken({ partnerId: options.partnerId, secret: options.secret, user });
      res.status(200).json({ token });
    } catch (error) {
      // A configuration problem (secret missing or too short, bad user id): never echo details or the secret.
      console.error(`jupid embed token: ${(error as Error).message}`);
      res.status(500).json({ error: "could not mint a Jupid token" });
    }
  };
}
