/**
 * /partner/{partnerId}/oidc/* — the OpenID Connect entrypoint (Jupid is the relying party).
 *   GET|POST login                 third-party-initiated login -> 303 to the provider, transaction cookie set
 *   GET      callback              the provider's answer -> session cookie, 303 to the workspace
 *   POST     backchannel-logout    logout_token from the provider -> that user's sessions at this partner end
 * Browsers get HTML error pages, the provider's back channel gets JSON.
 */
import { EmbedError, isEmbedError } from "../core/errors.ts";
import type { Dependencies } from "../ports/index.ts";
import { backchannelLogout, finishLogin, startLogin } from "../core/oidc.ts";
import { ProviderDirectory } from "../core/oidc-directory.ts";
import { requirePartner } from "../core/sessions.ts";
import { sessionCookie } from "../http/cookies.ts";
import { httpHandler } from "../http/handler.ts";
import { log } from "../http/logger.ts";
import { clearedOidcTransactionCookie, oidcTransactionCookie, readOidcTransactionCookie } from "../http/oidc-cookie.ts";
import { formBody, type HttpEvent, header, pathParameter, requireMethod } from "../http/request.ts";
import { json, seeOther, seeOtherProvider } from "../http/responses.ts";
import { awsRuntime, type Runtime, type RuntimeSource } from "./runtime.ts";

// One directory per set of ports: metadata and keys survive across invocations of a warm Lambda.
const directories = new WeakMap<Dependencies, ProviderDirectory>();

function contextOf(rt: Runtime) {
  let directory = directories.get(rt.deps);
  if (!directory) {
    directory = new ProviderDirectory(rt.deps.providerFetch ?? ((url, init) => fetch(url, init)), rt.deps.clock);
    directories.set(rt.deps, directory);
  }
  return { deps: rt.deps, settings: rt.settings, directory };
}

/** The last segment of the route template: login, callback or backchannel-logout. */
function action(event: { resource: string }): string {
  return event.resource.split("/").at(-1) ?? "";
}

export function createOidcHandler(runtime: RuntimeSource) {
  const browser = httpHandler(
    "oidc",
    async (event) => {
      const rt = runtime();
      const ctx = contextOf(rt);
      const partner = await requirePartner(rt.deps, pathParameter(event, "partnerId"));
      if (action(event) === "login") {
        const method = requireMethod(event, "GET", "POST");
        // OIDC Core §4: the initiation may be a GET or a form POST from the partner's site.
        const read = method === "GET" ? queryReader(event) : formReader(formBody(event));
        const request = { iss: read("iss"), loginHint: read("login_hint"), targetLinkUri: read("target_link_uri") };
        const start = await reportingProviderFailures(partner.id, () => startLogin(ctx, partner, request));
        return seeOtherProvider(new URL(start.redirectTo), { "Set-Cookie": oidcTransactionCookie(rt.settings, partner.id, start.transaction) });
      }
      requireMethod(event, "GET");
      // Every value, so that a repeated state/code/iss is refused (oauth4webapi) instead of one of them silently winning.
      const parameters = new URLSearchParams();
      for (const [name, values] of Object.entries(allQueryValues(event))) for (const value of values) parameters.append(name, value);
      const transaction = readOidcTransactionCookie(rt.settings, partner.id, header(event, "cookie"));
      const result = await reportingProviderFailures(partner.id, () => finishLogin(ctx, partner, { parameters, transaction }));
      const response = seeOther(result.redirectTo);
      return {
        ...response,
        multiValueHeaders: {
          "Set-Cookie": [
            sessionCookie(rt.settings, result.sessionId, rt.settings.sessionLifetimeSeconds),
            clearedOidcTransactionCookie(rt.settings, partner.id),
          ],
        },
      };
    },
    { htmlErrors: true },
  );

  const backChannel = httpHandler("oidc", async (event) => {
    requireMethod(event, "POST");
    const rt = runtime();
    const partner = await requirePartner(rt.deps, pathParameter(event, "partnerId"));
    const logoutToken = single("logout_token", formBody(event).getAll("logout_token"));
    const { ended } = await reportingProviderFailures(partner.id, () => backchannelLogout(contextOf(rt), partner, logoutToken));
    return json(200, { ended });
  });

  return ((event, context) => (action(event) === "backchannel-logout" ? backChannel : browser)(event, context)) as typeof browser;
}

/**
 * A provider failure is the one OIDC outcome the caller cannot explain, so its
 * cause goes to the log (our messages name the step and the library's error
 * code, never a token, code, cookie or secret); the response stays the bare code.
 */
async function reportingProviderFailures<T>(partnerId: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isEmbedError(error) && error.code === "OIDC_PROVIDER_UNAVAILABLE") {
      log("warn", "OIDC provider failure", { route: "oidc", partnerId, reason: error.message });
    }
    throw error;
  }
}

/** Query or form parameters of the initiation; each may appear at most once (RFC 6749 §3.1). */
function single(name: string, values: readonly string[]): string | undefined {
  if (values.length > 1) throw new EmbedError("BAD_REQUEST", `${name} must be sent once`);
  return values[0];
}

function formReader(form: URLSearchParams) {
  return (name: string) => single(name, form.getAll(name));
}

function queryReader(event: HttpEvent) {
  const all = allQueryValues(event);
  return (name: string) => single(name, all[name] ?? []);
}

function allQueryValues(event: HttpEvent): Record<string, readonly string[]> {
  const multi = event.multiValueQueryStringParameters;
  if (multi) return Object.fromEntries(Object.entries(multi).map(([name, values]) => [name, values ?? []]));
  return Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).map(([name, value]) => [name, value === undefined ? [] : [value]]));
}

export const handler = createOidcHandler(awsRuntime);
