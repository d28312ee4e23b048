/**
 * What is wrong with a partner's OIDC configuration, judged against its
 * provider's live metadata. The core decides (this module, with the same
 * discovery code the gateway runs); `jupid-embed partners oidc-check` only
 * renders the findings.
 */
import type { OidcConfig } from "../../config/schema.ts";
import { isEmbedError } from "./errors.ts";
import { clientRegistrationUris, SIGNING_ALGORITHMS } from "./oidc.ts";
import type { ProviderDirectory } from "./oidc-directory.ts";

export interface OidcFinding {
  readonly level: "error" | "warning" | "ok";
  /** The metadata field or step the finding is about. */
  readonly subject: string;
  readonly message: string;
}

export interface OidcCheck {
  readonly findings: readonly OidcFinding[];
  /** What the partner registers for Jupid at its provider. */
  readonly registration: ReturnType<typeof clientRegistrationUris>;
  /** True when there is no error: sign-ins can work (warnings are weaker defences or missing features). */
  readonly usable: boolean;
}

export async function checkOidcConfig(directory: ProviderDirectory, oidc: OidcConfig, appUrl: string, partnerId: string): Promise<OidcCheck> {
  const findings: OidcFinding[] = [];
  const registration = clientRegistrationUris(appUrl, partnerId);
  const add = (level: OidcFinding["level"], subject: string, message: string) => findings.push({ level, subject, message });
  let server: Awaited<ReturnType<ProviderDirectory["server"]>>;
  try {
    server = await directory.server(oidc.issuer);
    add("ok", "discovery", `${oidc.issuer}/.well-known/openid-configuration answers with issuer exactly ${oidc.issuer}`);
  } catch (error) {
    add("error", "discovery", isEmbedError(error) ? error.message : "discovery failed");
    return { findings, registration, usable: false };
  }

  const list = (field: string) => (server as Record<string, unknown>)[field] as readonly string[] | undefined;
  if (list("response_types_supported") && !list("response_types_supported")?.includes("code")) {
    add("error", "response_types_supported", 'the provider does not offer the authorisation code flow ("code")');
  }
  const methods = list("token_endpoint_auth_methods_supported") ?? ["client_secret_basic"];
  if (!methods.includes(oidc.clientAuth)) {
    add("error", "token_endpoint_auth_methods_supported", `oidc.clientAuth is ${oidc.clientAuth}, the provider supports ${methods.join(", ")}`);
  }
  const pkce = list("code_challenge_methods_supported");
  if (!pkce) add("warning", "code_challenge_methods_supported", "not advertised; Jupid always sends PKCE S256, check the provider accepts it");
  else if (!pkce.includes("S256")) add("error", "code_challenge_methods_supported", "the provider does not support PKCE S256");
  const algs = list("id_token_signing_alg_values_supported") ?? [];
  if (!algs.some((alg) => SIGNING_ALGORITHMS.includes(alg))) {
    add("error", "id_token_signing_alg_values_supported", `no asymmetric algorithm Jupid accepts (offered: ${algs.join(", ") || "none"})`);
  }
  const scopes = list("scopes_supported");
  for (const scope of oidc.scopes) {
    if (scopes && !scopes.includes(scope)) add("warning", "scopes_supported", `oidc.scopes asks for "${scope}", which the provider does not advertise`);
  }
  if (server.authorization_response_iss_parameter_supported !== true) {
    add("warning", "authorization_response_iss_parameter_supported", "no RFC 9207 iss in authorisation responses: mix-up defence rests on state and the per-partner callback only");
  }
  if (server.pushed_authorization_request_endpoint) add("ok", "pushed_authorization_request_endpoint", "PAR is used");
  else add("warning", "pushed_authorization_request_endpoint", "no PAR: the authorisation parameters travel in the browser's URL");
  if ((server as Record<string, unknown>).backchannel_logout_supported !== true) {
    add("warning", "backchannel_logout_supported", "no back-channel logout: logging out at the provider does not end Jupid sessions");
  }
  try {
    await directory.withKeys(oidc.issuer, async (keys) => keys);
    add("ok", "jwks_uri", `${server.jwks_uri} is a JWK set`);
  } catch (error) {
    add("error", "jwks_uri", isEmbedError(error) ? error.message : "the JWKS cannot be read");
  }
  return { findings, registration, usable: !findings.some((finding) => finding.level === "error") };
}
