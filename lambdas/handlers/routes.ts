/**
 * The HTTP surface, in one table. The local gateway routes with it and the
 * CDK stack builds its API Gateway resources from it, so the two cannot drift.
 * `handler` names the entry file lambdas/handlers/<handler>.ts.
 */
export type HandlerName = "health" | "embed-page" | "embeddable" | "session" | "enter" | "oidc" | "internal" | "workspace";

export interface Route {
  /** API Gateway resource path, with `{param}` and `{proxy+}` templates. */
  readonly path: string;
  readonly methods: readonly ("GET" | "POST" | "DELETE")[];
  readonly handler: HandlerName;
  /** `iam`: only callers with SigV4-signed requests (the Jupid app), enforced by API Gateway. */
  readonly auth: "none" | "iam";
}

export const ROUTES: readonly Route[] = [
  { path: "/healthz", methods: ["GET"], handler: "health", auth: "none" },
  { path: "/embed/{partnerId}", methods: ["GET"], handler: "embed-page", auth: "none" },
  { path: "/embed/{partnerId}/embeddable", methods: ["GET"], handler: "embeddable", auth: "none" },
  { path: "/embed/{partnerId}/session", methods: ["GET", "POST", "DELETE"], handler: "session", auth: "none" },
  { path: "/embed/{partnerId}/app", methods: ["GET"], handler: "workspace", auth: "none" },
  { path: "/embed/{partnerId}/app/{proxy+}", methods: ["GET"], handler: "workspace", auth: "none" },
  { path: "/partner/{partnerId}/enter", methods: ["GET", "POST"], handler: "enter", auth: "none" },
  { path: "/partner/{partnerId}/oidc/login", methods: ["GET", "POST"], handler: "oidc", auth: "none" },
  { path: "/partner/{partnerId}/oidc/callback", methods: ["GET"], handler: "oidc", auth: "none" },
  { path: "/partner/{partnerId}/oidc/backchannel-logout", methods: ["POST"], handler: "oidc", auth: "none" },
  { path: "/internal/sessions/resolve", methods: ["POST"], handler: "internal", auth: "iam" },
  { path: "/internal/usage", methods: ["POST"], handler: "internal", auth: "iam" },
  { path: "/internal/entitlements/{userId}", methods: ["GET"], handler: "internal", auth: "iam" },
  { path: "/app", methods: ["GET"], handler: "workspace", auth: "none" },
  { path: "/app/{proxy+}", methods: ["GET"], handler: "workspace", auth: "none" },
];

export const HANDLER_NAMES: readonly HandlerName[] = [...new Set(ROUTES.map((route) => route.handler))];

// Each route's path split once, not on every request.
const TEMPLATES = new Map<Route, readonly string[]>(ROUTES.map((route) => [route, route.path.split("/").slice(1)]));

/** Match a request path against the table: the route and its path parameters (decoded), or undefined. */
export function matchRoute(path: string): { route: Route; params: Record<string, string> } | undefined {
  // Like API Gateway, a single trailing slash names the same resource.
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  const segments = trimmed.split("/").slice(1);
  for (const route of ROUTES) {
    const template = TEMPLATES.get(route) as readonly string[];
    const params: Record<string, string> = {};
    let matched = true;
    for (let i = 0; i < template.length; i++) {
      const part = template[i] as string;
      const segment = segments[i];
      if (part.endsWith("+}")) {
        const rest = segments.slice(i).join("/");
        if (rest === "") matched = false;
        else params[part.slice(1, -2)] = safeDecode(rest);
        break;
      }
      if (segment === undefined || segment === "") {
        matched = false;
        break;
      }
      if (part.startsWith("{")) params[part.slice(1, -1)] = safeDecode(segment);
      else if (part !== segment) {
        matched = false;
        break;
      }
      if (i === template.length - 1 && segments.length !== template.length) matched = false;
    }
    if (matched) return { route, params };
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
