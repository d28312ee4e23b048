/**
 * `secret show | rotate | end-overlap | retire`: a partner's signing secret in
 * Secrets Manager (`<prefix><partnerId>`; endpoint from AWS_ENDPOINT_URL when
 * set). The gateway accepts the AWSCURRENT version and, for the
 * environment's keyRotationOverlapSeconds after a rotation, AWSPREVIOUS.
 */
import type { PartnerKey } from "../../../lambdas/ports/index.ts";
import { flag, integerOption, type ParsedArgs, positionals, stringOption } from "../args.ts";
import { AWS_OPTIONS, type Command, type CommandContext, ENV_OPTIONS, envFlags, mayReveal, REVEAL_OPTION, secretsAdmin } from "../command.ts";
import { findPartner, localSecretsFile, readLocalSecret, type SelectedEnvironment, selectEnvironment } from "../environment.ts";
import { CliError, columns, duration, EXIT, isoSeconds, relative, usageError } from "../io.ts";
import { currentKey, generatePartnerSecret, previousKey, type SecretState } from "../partner-secrets-admin.ts";

const KIND_OPTION = {
  kind: {
    type: "string",
    value: "<kind>",
    description: "signing (default): the HS256 key shared with the partner; oidc: Jupid's client secret at the partner's OpenID provider",
  },
} as const;

function isOidcKind(args: ParsedArgs): boolean {
  const kind = stringOption(args, "kind") ?? "signing";
  if (kind !== "signing" && kind !== "oidc") throw usageError(`--kind must be signing or oidc, not ${kind}`);
  return kind === "oidc";
}

async function showOidc(partnerId: string, args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const selected = selectAwsEnvironment(args, ctx, "rotate");
  const partner = findPartner(selected, partnerId);
  if (!partner.oidc) out.warn(`${partnerId} has no oidc block in ${selected.file}: the gateway does not use this secret`);
  const admin = await secretsAdmin(selected, args, ctx);
  const { name, value } = await admin.describeOidcClientSecret(partnerId);
  const reveal = mayReveal(args, out);
  if (out.json) {
    out.printJson({ environment: selected.name, partnerId, kind: "oidc", secretName: name, present: value !== undefined, ...(reveal && value ? { secret: value } : {}) });
    return value === undefined ? EXIT.FAILED : EXIT.OK;
  }
  out.print(
    columns([
      ["Secret", name],
      ["Client", partner.oidc ? `${partner.oidc.clientId} at ${partner.oidc.issuer} (${partner.oidc.clientAuth})` : "(no oidc block)"],
      ["Value", value === undefined ? `none: sign-ins fail with OIDC_PROVIDER_UNAVAILABLE; set it with: jupid-embed secret rotate ${partnerId} --kind oidc --env ${selected.name} < secret.txt` : reveal ? value : "(hidden: run on a terminal or pass --reveal)"],
    ]),
  );
  return value === undefined ? EXIT.FAILED : EXIT.OK;
}

async function rotateOidc(partnerId: string, args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const { io, out } = ctx;
  const selected = selectAwsEnvironment(args, ctx, "rotate");
  const partner = findPartner(selected, partnerId);
  if (!partner.oidc) throw new CliError("OIDC_NOT_CONFIGURED", `${partnerId} has no oidc block in ${selected.file}`, EXIT.FAILED, "add oidc: { issuer, clientId } first");
  // The provider issues the value; it comes on stdin so it is never in argv, shell history or ps.
  const value = (await io.readStdin()).trim();
  if (value.length < 16) {
    throw usageError("pipe the client secret the partner's provider issued on stdin (at least 16 characters)", `jupid-embed secret rotate ${partnerId} --kind oidc --env ${selected.name} < secret.txt`);
  }
  const admin = await secretsAdmin(selected, args, ctx);
  const { name, versionId } = await admin.putOidcClientSecret(partnerId, value);
  const cache = selected.config.cacheSeconds;
  if (out.json) {
    out.printJson({ environment: selected.name, partnerId, kind: "oidc", secretName: name, versionId: versionId ?? null, cacheSeconds: cache });
    return EXIT.OK;
  }
  out.print(`Stored ${name}${versionId ? ` (version ${versionId})` : ""}: warm gateways use it within ${cache} s. Check the provider: jupid-embed partners oidc-check ${partnerId} --env ${selected.name}`);
  return EXIT.OK;
}

const SECRET_ENV_NOTE = "--env (or --config, whose file names its environment) is required: JUPID_ENV is not used, these commands never guess.";

function selectAwsEnvironment(args: ParsedArgs, ctx: CommandContext, command: string): SelectedEnvironment {
  const selected = selectEnvironment(envFlags(args), ctx.io, { required: true });
  if (selected.name === "local" && command !== "show") {
    throw new CliError(
      "LOCAL_ENVIRONMENT",
      `env local keeps partner secrets in ${localSecretsFile("local", ctx.io)}, not in Secrets Manager`,
      EXIT.USAGE,
      "to get a new local secret, delete the partner's entry from that file and restart `npm start`",
    );
  }
  return selected;
}

function keyJson(key: PartnerKey | undefined, nowSeconds: number) {
  if (!key) return null;
  return {
    kid: key.kid,
    ...(key.notAfter === undefined ? {} : { notAfter: isoSeconds(key.notAfter), active: nowSeconds <= key.notAfter }),
  };
}

function describeKeys(state: SecretState, nowSeconds: number): string[][] {
  const current = currentKey(state);
  const previous = previousKey(state);
  return [
    ["Current key", current ? `kid ${current.kid}` : state.deletedDate ? "(not readable: scheduled for deletion)" : "none"],
    [
      "Previous key",
      previous
        ? `kid ${previous.kid}, ${previous.notAfter === undefined ? "no end" : nowSeconds <= previous.notAfter ? `accepted until ${isoSeconds(previous.notAfter)} (${relative(previous.notAfter, nowSeconds)})` : `overlap ended ${isoSeconds(previous.notAfter)}: no longer accepted`}`
        : "none (only the current key is accepted)",
    ],
  ];
}

const show: Command = {
  name: "secret show",
  usage: "secret show <partnerId> --env <env> [--reveal] [--json]",
  summary: "Show a partner's secret: versions and the keys the gateway accepts now.",
  details: `${SECRET_ENV_NOTE}\nThe current value is printed only to a terminal or with --reveal. Without a terminal or --reveal only metadata is printed; --json never carries the value without --reveal.\nFor env local the value comes from the local gateway's secrets file.`,
  options: { ...ENV_OPTIONS, ...KIND_OPTION, ...REVEAL_OPTION, ...AWS_OPTIONS },
  examples: ["jupid-embed secret show acme-books --env staging", "jupid-embed secret show acme-books --kind oidc --env staging", "jupid-embed secret show acme-books --env staging --json --reveal | jq -r .secret"],
  async run(args, ctx) {
    const { io, out } = ctx;
    const [partnerId] = positionals(args, ["partnerId"], "secret show") as [string];
    if (isOidcKind(args)) return showOidc(partnerId, args, ctx);
    const selected = selectAwsEnvironment(args, ctx, "show");
    const reveal = mayReveal(args, out);
    const nowSeconds = Math.floor(io.now() / 1000);
    if (selected.name === "local") {
      const file = localSecretsFile("local", io);
      const value = readLocalSecret(file, partnerId);
      if (out.json) out.printJson({ environment: "local", partnerId, file, current: { kid: "local" }, previous: null, ...(reveal ? { secret: value } : {}) });
      else {
        out.print(columns([["Secret", `${file} (local gateway)`], ["Current key", "kid local"], ["Value", reveal ? value : "(hidden: pass --reveal)"]]));
      }
      return EXIT.OK;
    }
    const admin = await secretsAdmin(selected, args, ctx);
    out.progress(`describing ${admin.secretName(partnerId)}`);
    const state = await admin.describe(partnerId);
    const current = currentKey(state);
    if (!selected.config.partners.some((p) => p.id === partnerId)) {
      out.warn(`${partnerId} is not in ${selected.file}: the gateway refuses its sign-ins (PARTNER_NOT_FOUND); retire the secret when it is no longer needed`);
    }
    if (out.json) {
      out.printJson({
        environment: selected.name,
        partnerId,
        secretName: state.name,
        ...(state.arn ? { arn: state.arn } : {}),
        status: state.deletedDate ? "scheduled-for-deletion" : "active",
        ...(state.deletedDate ? { deletedDate: state.deletedDate.toISOString() } : {}),
        current: keyJson(current, nowSeconds),
        previous: keyJson(previousKey(state), nowSeconds),
        versions: state.versions,
        ...(reveal && current ? { secret: current.secret } : {}),
      });
      return EXIT.OK;
    }
    out.print(
      columns([
        ["Secret", state.name],
        ...(state.arn ? [["ARN", state.arn]] : []),
        ["Status", state.deletedDate ? `SCHEDULED FOR DELETION (marked ${state.deletedDate.toISOString()})` : "active"],
        ...describeKeys(state, nowSeconds),
        ["Versions", Object.entries(state.versions).map(([id, stages]) => `${id} [${stages.join(", ")}]`).join("; ") || "none"],
        ["Value", current ? (reveal ? current.secret : "(hidden: run on a terminal or pass --reveal)") : "(none)"],
      ]),
    );
    return EXIT.OK;
  },
};

const rotate: Command = {
  name: "secret rotate",
  usage: "secret rotate <partnerId> --env <env> [--force] [--reveal] [--json]",
  summary: "Make a fresh secret current; the previous one stays valid for the overlap.",
  details: [
    SECRET_ENV_NOTE,
    "The new secret is 64 random alphanumeric characters (as the CDK stack generates them), put with PutSecretValue.",
    "Secrets Manager moves AWSCURRENT to the new version and AWSPREVIOUS to the old one. The gateway accepts the",
    "previous key until the new version's creation + keyRotationOverlapSeconds of the environment. Warm gateways",
    "cache keys for cacheSeconds, so tell the partner to switch after that and before the overlap ends.",
    "Refuses (exit 4) while an earlier previous key is still inside its overlap, unless --force.",
  ].join("\n"),
  options: {
    ...ENV_OPTIONS,
    force: { type: "boolean", description: "rotate even though the previous key is still inside its overlap (it stops working at once)" },
    ...KIND_OPTION,
    ...REVEAL_OPTION,
    ...AWS_OPTIONS,
  },
  examples: ["jupid-embed secret rotate acme-books --env staging", "jupid-embed partners handover acme-books --env staging --reveal   # then hand it over"],
  async run(args, ctx) {
    const { io, out } = ctx;
    const [partnerId] = positionals(args, ["partnerId"], "secret rotate") as [string];
    if (isOidcKind(args)) return rotateOidc(partnerId, args, ctx);
    const selected = selectAwsEnvironment(args, ctx, "rotate");
    findPartner(selected, partnerId);
    const admin = await secretsAdmin(selected, args, ctx);
    out.progress(`rotating ${admin.secretName(partnerId)}`);
    const { after, kid } = await admin.rotate(partnerId, { secret: generatePartnerSecret(), force: flag(args, "force") });
    const nowSeconds = Math.floor(io.now() / 1000);
    const previous = previousKey(after);
    const cache = selected.config.cacheSeconds;
    const switchFrom = nowSeconds + cache;
    const reveal = mayReveal(args, out);
    const secret = currentKey(after)?.secret;
    if (out.json) {
      out.printJson({
        environment: selected.name,
        partnerId,
        secretName: after.name,
        kid,
        previous: keyJson(previous, nowSeconds),
        acceptedEverywhereFrom: isoSeconds(switchFrom),
        ...(reveal && secret ? { secret } : {}),
      });
      return EXIT.OK;
    }
    out.print(
      [
        `Rotated ${after.name}`,
        columns(
          [
            ["New current key", `kid ${kid}`],
            [
              "Previous key",
              previous?.notAfter !== undefined
                ? `kid ${previous.kid}, accepted until ${isoSeconds(previous.notAfter)} (${duration(selected.config.keyRotationOverlapSeconds)} overlap)`
                : "none",
            ],
            ["Gateways", `cache keys up to ${cache} s: the new secret works everywhere from ${isoSeconds(switchFrom)}`],
            ["Partner switch", previous?.notAfter !== undefined ? `between ${isoSeconds(switchFrom)} and ${isoSeconds(previous.notAfter)}` : `after ${isoSeconds(switchFrom)}`],
            ["New secret", reveal && secret ? secret : "(hidden: run on a terminal or pass --reveal)"],
          ],
          "  ",
        ),
        "",
        `Hand it over: jupid-embed partners handover ${partnerId} --env ${selected.name} --reveal`,
        `End the overlap early once the partner has switched: jupid-embed secret end-overlap ${partnerId} --env ${selected.name} --yes`,
      ].join("\n"),
    );
    return EXIT.OK;
  },
};

const endOverlap: Command = {
  name: "secret end-overlap",
  usage: "secret end-overlap <partnerId> --env <env> --yes [--json]",
  summary: "End a rotation overlap now: only the current secret is accepted.",
  details: `${SECRET_ENV_NOTE}\nRemoves the AWSPREVIOUS staging label. Tokens signed with the previous secret are refused (TOKEN_SIGNATURE_INVALID) once gateways reload keys (cacheSeconds).`,
  options: { ...ENV_OPTIONS, yes: { type: "boolean", description: "confirm" }, ...AWS_OPTIONS },
  examples: ["jupid-embed secret end-overlap acme-books --env staging --yes"],
  async run(args, ctx) {
    const { io, out } = ctx;
    const [partnerId] = positionals(args, ["partnerId"], "secret end-overlap") as [string];
    const selected = selectAwsEnvironment(args, ctx, "end-overlap");
    if (!flag(args, "yes")) {
      throw new CliError(
        "CONFIRMATION_REQUIRED",
        `ending the overlap makes the previous secret of ${partnerId} (${selected.name}) stop working`,
        EXIT.REFUSED,
        "check with the partner that they sign with the current secret (token doctor shows which key matched), then add --yes",
      );
    }
    const admin = await secretsAdmin(selected, args, ctx);
    out.progress(`removing AWSPREVIOUS from ${admin.secretName(partnerId)}`);
    const { removed, after } = await admin.endOverlap(partnerId);
    const nowSeconds = Math.floor(io.now() / 1000);
    if (out.json) {
      out.printJson({ environment: selected.name, partnerId, secretName: after.name, removedFrom: removed ?? null, current: keyJson(currentKey(after), nowSeconds), previous: keyJson(previousKey(after), nowSeconds) });
      return EXIT.OK;
    }
    out.print(
      removed
        ? `Removed AWSPREVIOUS from version ${removed} of ${after.name}: only kid ${currentKey(after)?.kid ?? "?"} is accepted (gateways drop the old key within ${selected.config.cacheSeconds} s).`
        : `${after.name} has no previous version: nothing to do.`,
    );
    return EXIT.OK;
  },
};

const retire: Command = {
  name: "secret retire",
  usage: "secret retire <partnerId> --env <env> --yes [--recovery-days <7-30>] [--json]",
  summary: "Schedule a removed partner's secret for deletion (restorable for 7-30 days).",
  details: `${SECRET_ENV_NOTE}\nRefuses (exit 4) while the partner is still in the partner file: remove it and deploy first.`,
  options: {
    ...ENV_OPTIONS,
    yes: { type: "boolean", description: "confirm" },
    "recovery-days": { type: "string", value: "<days>", description: "recovery window, 7 to 30 days (default 30)" },
    ...AWS_OPTIONS,
  },
  examples: ["jupid-embed secret retire initech --env staging --yes"],
  async run(args, ctx) {
    const { out } = ctx;
    const [partnerId] = positionals(args, ["partnerId"], "secret retire") as [string];
    const selected = selectAwsEnvironment(args, ctx, "retire");
    const recoveryDays = integerOption(args, "recovery-days", 7, 30) ?? 30;
    if (selected.config.partners.some((p) => p.id === partnerId)) {
      throw new CliError(
        "PARTNER_STILL_CONFIGURED",
        `${partnerId} is still in ${selected.file}; retiring its secret would break its sign-ins`,
        EXIT.REFUSED,
        `remove the partner from the file and deploy JupidEmbed-${selected.name} first`,
      );
    }
    if (!flag(args, "yes")) {
      throw new CliError("CONFIRMATION_REQUIRED", `retiring deletes the secret of ${partnerId} (${selected.name}) after ${recoveryDays} days`, EXIT.REFUSED, "add --yes");
    }
    const admin = await secretsAdmin(selected, args, ctx);
    out.progress(`scheduling ${admin.secretName(partnerId)} for deletion`);
    const { name, deletionDate } = await admin.retire(partnerId, recoveryDays);
    if (out.json) {
      out.printJson({ environment: selected.name, partnerId, secretName: name, deletionDate: deletionDate?.toISOString() ?? null, recoveryDays });
      return EXIT.OK;
    }
    out.print(
      `Scheduled ${name} for deletion${deletionDate ? ` on ${deletionDate.toISOString()}` : ` in ${recoveryDays} days`}.\nUndo before then: aws secretsmanager restore-secret --secret-id ${name}`,
    );
    return EXIT.OK;
  },
};

export const secretCommands: readonly Command[] = [show, rotate, endOverlap, retire];
