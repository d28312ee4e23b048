/**
 * Partner secrets in Secrets Manager, for operators: one secret per partner
 * named `<prefix><partnerId>`, whose SecretString is the HMAC secret.
 *
 * Reading goes through the gateway's own adapter
 * ({@link SecretsManagerPartnerSecrets}, uncached), so what `secret show`
 * reports is exactly the key set a Lambda would load. Rotation is
 * PutSecretValue (Secrets Manager moves AWSCURRENT to the new version and
 * AWSPREVIOUS to the old one); ending an overlap early removes AWSPREVIOUS.
 */
import { randomBytes } from "node:crypto";
import type { DescribeSecretCommandOutput, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { oidcClientSecretName, SecretsManagerPartnerSecrets } from "../../lambdas/adapters/aws/partner-secrets.ts";
import type { PartnerKey } from "../../lambdas/ports/index.ts";
import { CliError, EXIT, isoSeconds } from "./io.ts";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A fresh partner secret of the same shape as the ones the CDK stack has
 * Secrets Manager generate (lib/constructs/partner-secrets.ts): 64
 * alphanumeric characters (~381 random bits), nothing that needs quoting.
 */
export function generatePartnerSecret(length = 64): string {
  let secret = "";
  while (secret.length < length) {
    for (const byte of randomBytes(length)) {
      // 248 = 4 * 62: rejecting the rest keeps every character equally likely.
      if (byte < 248 && secret.length < length) secret += ALPHANUMERIC[byte % 62];
    }
  }
  return secret;
}

/** A Secrets Manager client; region from the argument, else the SDK's chain (AWS_REGION, profile). Endpoint: AWS_ENDPOINT_URL when set. */
export async function createSecretsClient(region?: string): Promise<SecretsManagerClient> {
  const sdk = await import("@aws-sdk/client-secrets-manager");
  return new sdk.SecretsManagerClient({ ...(region ? { region } : {}), maxAttempts: 3 });
}

export interface SecretState {
  readonly name: string;
  readonly arn?: string;
  /** Set when the secret is scheduled for deletion (retired). */
  readonly deletedDate?: Date;
  /** VersionId -> staging labels, as Secrets Manager reports them. */
  readonly versions: Readonly<Record<string, readonly string[]>>;
  /** What the gateway would load: current first, then previous with its `notAfter`. Values included: never print them unasked. */
  readonly keys: readonly PartnerKey[];
}

export function currentKey(state: SecretState): PartnerKey | undefined {
  return state.keys.find((key) => key.stage === "current");
}

export function previousKey(state: SecretState): PartnerKey | undefined {
  return state.keys.find((key) => key.stage === "previous");
}

export class PartnerSecretsAdmin {
  constructor(
    private readonly client: SecretsManagerClient,
    readonly prefix: string,
    private readonly overlapSeconds: number,
    private readonly clock: () => number,
  ) {}

  secretName(partnerId: string): string {
    return `${this.prefix}${partnerId}`;
  }

  /** The partner's OIDC client secret: its name, and its value as the gateway's adapter reads it (undefined: none). */
  async describeOidcClientSecret(partnerId: string): Promise<{ name: string; value: string | undefined }> {
    const name = oidcClientSecretName(this.prefix, partnerId);
    const adapter = new SecretsManagerPartnerSecrets(this.client, { secretPrefix: this.prefix, keyRotationOverlapSeconds: 0, cacheSeconds: 0 });
    try {
      return { name, value: await adapter.getOidcClientSecret(partnerId) };
    } catch (error) {
      throw awsFailure(error, `reading ${name}`);
    }
  }

  /**
   * Store a new OIDC client secret (the value the partner's provider issued):
   * a new AWSCURRENT version, or the secret itself the first time. There is no
   * overlap: a provider holds one secret per client, so switch both together.
   */
  async putOidcClientSecret(partnerId: string, value: string): Promise<{ name: string; versionId: string | undefined }> {
    const { CreateSecretCommand, PutSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
    const name = oidcClientSecretName(this.prefix, partnerId);
    try {
      const out = await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
      return { name, versionId: out.VersionId };
    } catch (error) {
      if ((error as { name?: string }).name !== "ResourceNotFoundException") throw awsFailure(error, `putting ${name}`);
    }
    try {
      const out = await this.client.send(
        new CreateSecretCommand({ Name: name, SecretString: value, Description: `OIDC client secret of Jupid at partner ${partnerId}'s provider` }),
      );
      return { name, versionId: out.VersionId };
    } catch (error) {
      throw awsFailure(error, `creating ${name}`);
    }
  }

  /** The keys exactly as the gateway's adapter loads them (no cache). */
  gatewayKeys(partnerId: string): Promise<readonly PartnerKey[]> {
    const adapter = new SecretsManagerPartnerSecrets(this.client, {
      secretPrefix: this.prefix,
      keyRotationOverlapSeconds: this.overlapSeconds,
      cacheSeconds: 0,
      clock: this.clock,
    });
    return adapter.getKeys(partnerId).catch((error: unknown) => {
      throw awsFailure(error, `reading ${this.secretName(partnerId)}`);
    });
  }

  async describe(partnerId: string): Promise<SecretState> {
    const { DescribeSecretCommand } = await import("@aws-sdk/client-secrets-manager");
    const name = this.secretName(partnerId);
    let described: DescribeSecretCommandOutput;
    try {
      described = await this.client.send(new DescribeSecretCommand({ SecretId: name }));
    } catch (error) {
      throw awsFailure(error, `describing ${name}`);
    }
    const deletedDate = described.DeletedDate;
    return {
      name,
      ...(described.ARN ? { arn: described.ARN } : {}),
      ...(deletedDate ? { deletedDate } : {}),
      versions: described.VersionIdsToStages ?? {},
      // A secret scheduled for deletion cannot be read; the gateway has no keys for it.
      keys: deletedDate ? [] : await this.gatewayKeys(partnerId),
    };
  }

  /**
   * Put a new current version. Refuses (unless `force`) while a previous key
   * is still inside its overlap window: a second rotation would drop that
   * key at once and break partners that have not switched yet.
   */
  async rotate(partnerId: string, options: { secret: string; force: boolean }): Promise<{ before: SecretState; after: SecretState; kid: string }> {
    const before = await this.describe(partnerId);
    if (before.deletedDate) throw scheduledForDeletion(before);
    const previous = previousKey(before);
    const nowSeconds = Math.floor(this.clock() / 1000);
    if (previous && !options.force && (previous.notAfter === undefined || nowSeconds <= previous.notAfter)) {
      throw new CliError(
        "OVERLAP_ACTIVE",
        `the previous key (kid ${previous.kid}) of ${before.name} is still accepted until ${previous.notAfter === undefined ? "further notice" : isoSeconds(previous.notAfter)}; rotating again now would drop it at once`,
        EXIT.REFUSED,
        "wait until the overlap has ended, or pass --force if that key must stop working anyway",
      );
    }
    const { PutSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
    let kid: string | undefined;
    try {
      kid = (await this.client.send(new PutSecretValueCommand({ SecretId: before.name, SecretString: options.secret }))).VersionId;
    } catch (error) {
      throw awsFailure(error, `putting a new version of ${before.name}`);
    }
    const after = await this.describe(partnerId);
    if (!kid || currentKey(after)?.kid !== kid) {
      throw new CliError("ROTATION_UNCONFIRMED", `${before.name}: the new version ${kid ?? "(no VersionId)"} did not become AWSCURRENT`);
    }
    return { before, after, kid };
  }

  /** Remove AWSPREVIOUS, so only the current key is accepted. Returns the version it was removed from, if any. */
  async endOverlap(partnerId: string): Promise<{ removed?: string; after: SecretState }> {
    const before = await this.describe(partnerId);
    if (before.deletedDate) throw scheduledForDeletion(before);
    const previous = Object.entries(before.versions).find(([, stages]) => stages.includes("AWSPREVIOUS"))?.[0];
    if (previous === undefined) return { after: before };
    const { UpdateSecretVersionStageCommand } = await import("@aws-sdk/client-secrets-manager");
    try {
      await this.client.send(
        new UpdateSecretVersionStageCommand({ SecretId: before.name, VersionStage: "AWSPREVIOUS", RemoveFromVersionId: previous }),
      );
    } catch (error) {
      throw awsFailure(error, `removing AWSPREVIOUS from ${before.name}`);
    }
    return { removed: previous, after: await this.describe(partnerId) };
  }

  /** Schedule the secret for deletion after `recoveryDays` (7..30); restorable until then. */
  async retire(partnerId: string, recoveryDays: number): Promise<{ name: string; deletionDate?: Date }> {
    const { DeleteSecretCommand } = await import("@aws-sdk/client-secrets-manager");
    const name = this.secretName(partnerId);
    try {
      const out = await this.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: recoveryDays }));
      return { name, ...(out.DeletionDate ? { deletionDate: out.DeletionDate } : {}) };
    } catch (error) {
      throw awsFailure(error, `deleting ${name}`);
    }
  }
}

function scheduledForDeletion(state: SecretState): CliError {
  return new CliError(
    "SECRET_RETIRED",
    `${state.name} is scheduled for deletion${state.deletedDate ? ` (marked ${state.deletedDate.toISOString()})` : ""}`,
    EXIT.FAILED,
    `restore it first: aws secretsmanager restore-secret --secret-id ${state.name}`,
  );
}

/** Turn an AWS SDK failure into a message an operator can act on; never includes a secret value (SDK errors carry none). */
export function awsFailure(error: unknown, doing: string): CliError {
  if (error instanceof CliError) return error;
  const root = rootCause(error);
  const name = root instanceof Error ? root.name : "Error";
  const message = root instanceof Error ? root.message : String(root);
  if (name === "ResourceNotFoundException") {
    return new CliError(
      "SECRET_NOT_FOUND",
      `${doing}: the secret does not exist`,
      EXIT.FAILED,
      "check --env and the secret prefix; the CDK stack creates one secret per configured partner at deploy",
      { cause: error },
    );
  }
  if (/region is missing/i.test(message)) {
    return new CliError("AWS_REGION_MISSING", `${doing}: no AWS region`, EXIT.FAILED, "set AWS_REGION, pass --region, or set aws.region in the partner file", { cause: error });
  }
  if (name === "CredentialsProviderError" || /credential/i.test(message)) {
    return new CliError(
      "AWS_CREDENTIALS",
      `${doing}: no usable AWS credentials (${message})`,
      EXIT.FAILED,
      "set AWS_PROFILE or AWS credentials for the account; for an emulator set AWS_ENDPOINT_URL and dummy credentials",
      { cause: error },
    );
  }
  if (/AccessDenied|UnrecognizedClient|InvalidSignature|ExpiredToken/.test(name)) {
    return new CliError("AWS_ACCESS_DENIED", `${doing}: ${name}: ${message}`, EXIT.FAILED, "check the AWS account and role you are using", {
      cause: error,
    });
  }
  if (name === "InvalidRequestException" && /deletion/i.test(message)) {
    return new CliError("SECRET_RETIRED", `${doing}: the secret is scheduled for deletion`, EXIT.FAILED, undefined, { cause: error });
  }
  return new CliError("AWS_ERROR", `${doing}: ${name}: ${message}`, EXIT.FAILED, undefined, { cause: error });
}

function rootCause(error: unknown): unknown {
  let current = error;
  // The gateway adapter wraps SDK errors with the secret id and stage; the SDK's error name is on the cause.
  for (let depth = 0; depth < 3 && current instanceof Error && current.cause !== undefined; depth++) current = current.cause;
  return current;
}
