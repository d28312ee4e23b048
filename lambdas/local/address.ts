/**
 * Where `npm start` listens, in one place: the local gateway (JUPID_PORT) and
 * the demo partner site (PARTNER_PORT). lambdas/local/main.ts binds to these;
 * the operator CLI prints URLs from them, so both agree on any port.
 */
export const LOCAL_GATEWAY_HOST = "127.0.0.1";
/** The demo partner lives on another site than the gateway (localhost vs 127.0.0.1), as a real partner would. */
export const DEMO_PARTNER_HOST = "localhost";
export const DEFAULT_JUPID_PORT = 4000;
export const DEFAULT_PARTNER_PORT = 3000;

/** A port from the environment variable `name` (0 = any free port), or `fallback`. */
export function portFrom(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number (0-65535), not "${raw}"`);
  return value;
}

/** The local gateway's origin for a port, e.g. http://127.0.0.1:4000. */
export const localGatewayUrl = (port: number): string => `http://${LOCAL_GATEWAY_HOST}:${port}`;
/** The demo partner site's origin for a port, e.g. http://localhost:3000. */
export const demoPartnerUrl = (port: number): string => `http://${DEMO_PARTNER_HOST}:${port}`;
