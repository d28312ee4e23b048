/**
 * /partner/{partnerId}/oidc/* — the OpenID Connect entrypoint (Jupid is the relying party).
 *   GET|POST login                 third-party-initiated login -> 303 to the provider, transaction cookie set
 *   GET      callback              the provider's answer -> session cookie, 303 to the workspace
 *   POST     backchannel-logout    logout_token from the provider -> that user's sessions at this partner end
 * Browsers get HTML error pages, the provider's back channel gets JSON.
 */
import type { Dependencies } from "../ports/index.ts";
import { backchannelLogout, finishLogin, startLogin } from "../core/oidc.ts";
import { ProviderDirectory } from "../core/oidc-directory.ts";
import { requirePartner } from "../core/sessions.ts";
import { sessionCookie } from "../http/cookies.ts";
import { httpHandler } from "../http/handler.ts";
import { clearedOidcTransactionCookie, oidcTransactionCookie, readOidcTransactionCookie } from "../http/oidc-cookie.ts";
import { formBody, header, pathParameter, queryParameter, requireMethod } from "../http/request.ts";
import { json, seeOther } from "../http/responses.ts";
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
        const read = method === "GET" ? (name: string) => queryParameter(event, name) : formReader(formBody(event));
        const start = await startLogin(ctx, partner, {
          iss: read("iss"),
          loginHint: read("login_hint"),
          targetLinkUri: read("target_link_uri"),
        });
        return seeOther(start.redirectTo, { "Set-Cookie": oidcTransactionCookie(rt.settings, partner.id, start.transaction) });
      }
      requireMethod(event, "GET");
      const parameters = new URLSearchParams();
      for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) if (value !== undefined) parameters.set(name, value);
      const result = await finishLogin(ctx, partner, {
        parameters,
        transaction: readOidcTransactionCookie(rt.settings, partner.id, header(event, "cookie")),
      });
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
    const { ended } = await backchannelLogout(contextOf(rt), partner, formBody(event).get("logout_token") ?? undefined);
    return json(200, { ended });
  });

  return ((event, context) => (action(event) === "backchannel-logout" ? backChannel : browser)(event, context)) as typeof browser;
}

function formReader(form: URLSearchParams) {
  return (name: string) => form.get(name) ?? undefined;
}

export const handler = createOidcHandler(awsRuntime);
