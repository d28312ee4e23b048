/**
 * `partners list | show | handover`: the partner file of an environment, read through the gateway's own loader;
 * `partners revoke-sessions`: end every session of a partner.
 */
import type { PartnerConfig } from "../../../config/schema.ts";
import { checkOidcConfig } from "../../../lambdas/core/oidc-check.ts";
import { ProviderDirectory } from "../../../lambdas/core/oidc-directory.ts";
import { flag, positionals, stringOption } from "../args.ts";
import { AWS_OPTIONS, type Command, ENV_OPTIONS, envFlags, mayReveal, REVEAL_OPTION, secretsAdmin } from "../command.ts";
import { findPartner, localSecretsFile, readLocalSecret, secretPrefix, selectEnvironment } from "../environment.ts";
import { buildHandover, formatHandover, type HandoverSecret } from "../handover.ts";
import { CliError, columns, EXIT } from "../io.ts";
import { currentKey } from "../partner-secrets-admin.ts";
import { resolvePartnersTable, revokePartnerSessions } from "../partner-sessions-admin.ts";

const list: Command = {
  name: "partners list",
  usage: "partners list [--env <env>] [--config <file>] [--json]",
  summary: "List the partners of an environment (the partner file, validated as the gateway and the CDK app do).",
  details: "--env defaults to JUPID_ENV, else local. An invalid file prints the loader's message (file, partner, field) and exits 3.",
  options: { ...ENV_OPTIONS },
  examples: ["jupid-embed partners list --env staging", "jupid-embed partners list --env production --json"],
  async run(args, { io, out }) {
    positionals(args, [], "partners list");
    const selected = selectEnvironment(envFlags(args), io);
    if (out.json) {
      out.printJson({
        environment: selected.name,
        file: selected.file,
        appUrl: selected.config.appUrl,
        partners: selected.config.partners.map((p) => ({
          id: p.id,
          displayName: p.displayName,
          enabled: p.enabled,
          allowedOrigins: p.allowedOrigins,
          maxTokenLifetimeSeconds: p.maxTokenLifetimeSeconds,
        })),
      });
      return EXIT.OK;
    }
    out.print(`${selected.config.partners.length} partner(s) in ${selected.file} (${selected.name}, ${selected.config.appUrl})\n`);
    if (selected.config.partners.length > 0) {
      out.print(
        columns([
          ["ID", "NAME", "ENABLED", "MAX TTL", "SHELL", "ORIGINS"],
          ...selected.config.partners.map((p) => [
            p.id,
            p.displayName,
            p.enabled ? "yes" : "no",
            `${p.maxTokenLifetimeSeconds}s`,
            p.shell.mode,
            p.allowedOrigins.join(" "),
          ]),
        ]),
      );
    }
    return EXIT.OK;
  },
};

const show: Command = {
  name: "partners show",
  usage: "partners show <partnerId> [--env <env>] [--config <file>] [--json]",
  summary: "Show one partner's configuration (defaults applied) and its URLs.",
  options: { ...ENV_OPTIONS },
  examples: ["jupid-embed partners show acme-books --env staging"],
  async run(args, { io, out }) {
    const [partnerId] = positionals(args, ["partnerId"], "partners show") as [string];
    const selected = selectEnvironment(envFlags(args), io);
    const partner = findPartner(selected, partnerId);
    const urls = partnerUrls(selected.config.appUrl, partner);
    const secretLocation =
      selected.name === "local" ? localSecretsFile(selected.name, io) : `Secrets Manager ${secretPrefix(selected.name, io)}${partner.id}`;
    if (out.json) {
      out.printJson({ environment: selected.name, file: selected.file, partner, urls, secret: secretLocation });
      return EXIT.OK;
    }
    out.print(
      columns([
        ["Partner", `${partner.id} (${partner.displayName})`],
        ["Environment", `${selected.name} (${selected.file})`],
        ["Enabled", partner.enabled ? "yes" : "NO: sign-ins are refused with PARTNER_DISABLED"],
        ...partner.allowedOrigins.map((origin, i) => [i === 0 ? "Allowed origins" : "", origin]),
        ["Branding", `${partner.branding.displayName}, ${partner.branding.primaryColor}${partner.branding.logoUrl ? `, ${partner.branding.logoUrl}` : ""}`],
        [
          "Shell",
          `${partner.shell.mode}, chat ${partner.shell.chat ? "on" : "off"}; SDK may override: mode ${partner.shell.allowOverride.mode ? "yes" : "no"}, chat ${partner.shell.allowOverride.chat ? "yes" : "no"}`,
        ],
        ["First-run path", partner.firstRunPath],
        ["Allowed paths", partner.allowedPaths?.join(", ") ?? "any app path"],
        ["Free limit", `${partner.freeLimit.threshold} ${partner.freeLimit.metric}`],
        ["Max token TTL", `${partner.maxTokenLifetimeSeconds} s`],
        ["Embed page", urls.embedPage],
        ["Redirect entry", urls.redirectEntry],
        ["embed.js", urls.embedJs],
        ["Secret", secretLocation],
      ]),
    );
    return EXIT.OK;
  },
};

const handover: Command = {
  name: "partners handover",
  usage: "partners handover <partnerId> [--env <env>] [--reveal] [--json]",
  summary: "Print the environment values Jupid sends a partner, in one block (secret only on request).",
  details: [
    "Partner ID, app URL, embed.js URL, audience, allowed origins, token rules, token endpoint and signing secret.",
    "The signing secret is printed only when stdout is a terminal, or with --reveal (needed for --json too);",
    "otherwise a line says how to reveal it. For env local the secret comes from the local gateway's",
    "secrets file (JUPID_LOCAL_SECRETS, default .local/secrets.local.json, created by `npm start`);",
    "for the AWS environments from Secrets Manager (AWSCURRENT). Send the block over a secure channel.",
  ].join("\n"),
  options: { ...ENV_OPTIONS, ...REVEAL_OPTION, ...AWS_OPTIONS },
  examples: [
    "jupid-embed partners handover acme-books --env staging            # on a terminal: includes the secret",
    "jupid-embed partners handover acme-books --env staging --reveal > handover.txt",
  ],
  async run(args, ctx) {
    const { io, out } = ctx;
    const [partnerId] = positionals(args, ["partnerId"], "partners handover") as [string];
    const selected = selectEnvironment(envFlags(args), io);
    const partner = findPartner(selected, partnerId);
    const reveal = mayReveal(args, out);
    const revealHint = `re-run on a terminal or with --reveal: jupid-embed partners handover ${partner.id} --env ${selected.name} --reveal`;
    let secret: HandoverSecret;
    if (selected.name === "local") {
      const file = localSecretsFile(selected.name, io);
      secret = reveal ? { value: readLocalSecret(file, partner.id), location: file } : { location: file, revealHint };
    } else {
      const location = `Secrets Manager ${secretPrefix(selected.name, io, stringOption(args, "secret-prefix"))}${partner.id}`;
      if (reveal) {
        const admin = await secretsAdmin(selected, args, ctx);
        out.progress(`reading ${admin.secretName(partner.id)}`);
        const current = currentKey(await admin.describe(partner.id));
        if (!current) throw new CliError("SECRET_NOT_FOUND", `${admin.secretName(partner.id)} has no current version`, EXIT.FAILED);
        secret = { value: current.secret, location, kid: current.kid };
      } else {
        secret = { location, revealHint };
      }
    }
    const block = buildHandover(selected.config, partner, secret);
    if (out.json) out.printJson(block);
    else out.print(formatHandover(block));
    if (!partner.enabled) out.warn(`${partner.id} is disabled in ${selected.name}: sign-ins are refused until it is enabled`);
    return EXIT.OK;
  },
};

export function partnerUrls(appUrl: string, partner: Pick<PartnerConfig, "id">) {
  return {
    embedPage: `${appUrl}/embed/${partner.id}`,
    redirectEntry: `${appUrl}/partner/${partner.id}/enter`,
    embedJs: `${appUrl}/embed.js`,
  };
}

const oidcCheck: Command = {
  name: "partners oidc-check",
  usage: "partners oidc-check <partnerId> [--env <env>] [--config <file>] [--json]",
  summary: "Fetch the partner's OpenID provider metadata and say what is wrong with its oidc configuration.",
  details: [
    "Runs the gateway's own discovery (exact issuer match) and JWKS fetch, then checks the metadata against the",
    "partner's oidc block: code flow, PKCE S256, the client authentication method, signing algorithms, scopes,",
    "RFC 9207 iss, PAR and back-channel logout. Prints the URIs to register for Jupid at the provider.",
    "Exit 0 when sign-ins can work (warnings allowed), 1 when something would break them.",
  ].join("\n"),
  options: { ...ENV_OPTIONS },
  examples: ["jupid-embed partners oidc-check acme-books --env staging"],
  async run(args, { io, out }) {
    const [partnerId] = positionals(args, ["partnerId"], "partners oidc-check") as [string];
    const selected = selectEnvironment(envFlags(args), io);
    const partner = findPartner(selected, partnerId);
    if (!partner.oidc) {
      throw new CliError("OIDC_NOT_CONFIGURED", `${partnerId} has no oidc block in ${selected.file}`, EXIT.FAILED, "add oidc: { issuer, clientId } to the partner (docs/partner-guide.md)");
    }
    out.progress(`fetching ${partner.oidc.issuer}/.well-known/openid-configuration`);
    const directory = new ProviderDirectory(io.fetch ?? ((url, init) => fetch(url, init)), io.now);
    const check = await checkOidcConfig(directory, partner.oidc, selected.config.appUrl, partner.id);
    if (out.json) {
      out.printJson({ environment: selected.name, partnerId, issuer: partner.oidc.issuer, ...check });
      return check.usable ? EXIT.OK : EXIT.FAILED;
    }
    const mark = { ok: "ok", warning: "WARN", error: "ERROR" } as const;
    out.print(
      [
        `OIDC configuration of ${partnerId} (${selected.name}): issuer ${partner.oidc.issuer}, client ${partner.oidc.clientId}, ${partner.oidc.clientAuth}`,
        columns(check.findings.map((finding) => [mark[finding.level], finding.subject, finding.message])),
        "",
        "Register for Jupid at the provider:",
        columns([
          ["Redirect URI", check.registration.redirectUri],
          ["Initiate login URI", check.registration.initiateLoginUri],
          ["Back-channel logout URI", check.registration.backchannelLogoutUri],
        ]),
        "",
        check.usable ? "Sign-ins can work." : "Sign-ins would fail: fix the errors above.",
      ].join("\n"),
    );
    return check.usable ? EXIT.OK : EXIT.FAILED;
  },
};


const revokeSessions: Command = {
  name: "partners revoke-sessions",
  usage: "partners revoke-sessions <partnerId> --env <env> --yes [--partners-table <name>] [--region <region>] [--json]",
  summary: "End every existing session of a partner now (after a secret leak, or to force everyone to sign in again).",
  details: [
    "Bumps the partner's session epoch in the partners table: sessions created before are refused (SESSION_REQUIRED)",
    "by the workspace, /internal/sessions/resolve and the frame, within cacheSeconds. New sign-ins keep working;",
    "disable the partner (enabled: false and a deploy) to stop those too, which also bumps the epoch.",
    "The table: --partners-table, else JUPID_TABLE_PARTNERS, else the TablePartners output of JupidEmbed-<env>.",
  ].join("\n"),
  options: {
    ...ENV_OPTIONS,
    yes: { type: "boolean", description: "confirm" },
    "partners-table": { type: "string", value: "<name>", description: "the partners table (default: JUPID_TABLE_PARTNERS, else the stack output)" },
    region: AWS_OPTIONS.region,
  },
  examples: ["jupid-embed partners revoke-sessions acme-books --env production --yes"],
  async run(args, { io, out }) {
    const [partnerId] = positionals(args, ["partnerId"], "partners revoke-sessions") as [string];
    const selected = selectEnvironment(envFlags(args), io, { required: true });
    if (selected.name === "local") {
      throw new CliError("LOCAL_ENVIRONMENT", "env local keeps sessions in the memory of `npm start`", EXIT.USAGE, "restart `npm start` to end every local session");
    }
    if (!flag(args, "yes")) {
      throw new CliError(
        "CONFIRMATION_REQUIRED",
        `revoking signs out every user of ${partnerId} (${selected.name}) at once`,
        EXIT.REFUSED,
        "add --yes",
      );
    }
    const region = stringOption(args, "region") ?? selected.config.aws?.region;
    const { table, from } = await resolvePartnersTable({
      flag: stringOption(args, "partners-table"),
      env: io.env,
      stackName: `JupidEmbed-${selected.name}`,
      region,
    });
    out.progress(`partners table ${table} (from ${from})`);
    const epoch = await revokePartnerSessions(table, partnerId, region);
    if (out.json) {
      out.printJson({ environment: selected.name, partnerId, table, sessionEpoch: epoch, effectiveWithinSeconds: selected.config.cacheSeconds });
      return EXIT.OK;
    }
    out.print(
      `Revoked every session of ${partnerId} in ${selected.name}: session epoch is now ${epoch}; gateways refuse older sessions within ${selected.config.cacheSeconds} s.\n`,
    );
    return EXIT.OK;
  },
};

export const partnerCommands: readonly Command[] = [list, show, handover, revokeSessions, oidcCheck];
