import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { PARTNER_ID_PATTERN } from "../../../config/schema.ts";
import type { PartnerKey, PartnerSecrets } from "../../ports/index.ts";
import { isEmbedError } from "../../core/errors.ts";
import { errorName } from "./attributes.ts";
import { TtlCache } from "./cache.ts";

export interface SecretsManagerPartnerSecretsOptions {
  /** Secret name = prefix + partner id, e.g. `jupid-embed/staging/partners/`. */
  readonly secretPrefix: string;
  /** How long the previous key stays valid after the current version was created. */
  readonly keyRotationOverlapSeconds: number;
  /** How long keys are cached in this process; 0 = fetch every time (tests only). */
  readonly cacheSeconds: number;
  readonly clock?: () => number;
}

/** The Secrets Manager name of a partner's OIDC client secret (one home for the format: the CLI and the CDK grant use it). */
export function oidcClientSecretName(secretPrefix: string, partnerId: string): string {
  return `${secretPrefix}${partnerId}/oidc-client`;
}

/**
 * Partner signing keys from Secrets Manager: one secret per partner whose
 * SecretString is the HMAC secret. AWSCURRENT is the current key; after a
 * rotation (PutSecretValue) AWSPREVIOUS is the previous key, accepted until
 * the current version's CreatedDate + the rotation overlap. `kid` = VersionId.
 * Keys are cached, never fetched per request; secret values are never logged.
 *
 * A load asks for AWSCURRENT's value and, in parallel, DescribeSecret for
 * the stages; only when a previous version exists is it fetched (by its
 * VersionId). So a partner that never rotated costs one round trip of two
 * calls and no failing one (asking for AWSPREVIOUS would answer
 * ResourceNotFoundException); a rotated partner costs a second round trip
 * (ADR 0011).
 */
export class SecretsManagerPartnerSecrets implements PartnerSecrets {
  private readonly cache: TtlCache<readonly PartnerKey[]>;
  private readonly oidcCache: TtlCache<string | undefined>;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly options: SecretsManagerPartnerSecretsOptions,
  ) {
    this.cache = new TtlCache(options.cacheSeconds, options.clock ?? Date.now);
    this.oidcCache = new TtlCache(options.cacheSeconds, options.clock ?? Date.now);
  }

  /** `<prefix><partnerId>/oidc-client`: partner ids never contain "/", so no partner's key secret can have this name. */
  async getOidcClientSecret(partnerId: string): Promise<string | undefined> {
    if (!PARTNER_ID_PATTERN.test(partnerId)) return undefined;
    return this.oidcCache.get(partnerId, async () => {
      const version = await this.version(oidcClientSecretName(this.options.secretPrefix, partnerId), { VersionStage: "AWSCURRENT" });
      return version?.SecretString;
    });
  }

  async getKeys(partnerId: string): Promise<readonly PartnerKey[]> {
    if (!PARTNER_ID_PATTERN.test(partnerId)) return [];
    return this.cache.get(partnerId, () => this.load(`${this.options.secretPrefix}${partnerId}`));
  }

  private async load(secretId: string): Promise<readonly PartnerKey[]> {
    for (let attempt = 1; ; attempt++) {
      const [current, described] = await Promise.all([this.version(secretId, { VersionStage: "AWSCURRENT" }), this.describe(secretId)]);
      if (current?.SecretString === undefined || current.VersionId === undefined) return [];
      const stages = Object.entries(described?.VersionIdsToStages ?? {});
      const describedCurrent = stages.find(([, names]) => names.includes("AWSCURRENT"))?.[0];
      if (describedCurrent !== current.VersionId) {
        // A rotation between the two calls: the stages describe another moment than the value. Ask again.
        if (attempt < 3) continue;
        throw new Error(`secret ${secretId}: AWSCURRENT kept moving while its keys were loaded`);
      }
      const keys: PartnerKey[] = [{ kid: current.VersionId, secret: current.SecretString, stage: "current" }];
      const previousId = stages.find(([id, names]) => names.includes("AWSPREVIOUS") && id !== current.VersionId)?.[0];
      if (previousId === undefined) return keys;
      const previous = await this.version(secretId, { VersionId: previousId });
      // Deleted in between (an overlap ended early): no previous key.
      if (previous?.SecretString === undefined || previous.VersionId === undefined) return keys;
      const createdAt = current.CreatedDate?.getTime();
      if (createdAt === undefined) {
        throw new Error(`secret ${secretId}: AWSCURRENT has no CreatedDate, cannot bound the previous key`);
      }
      keys.push({
        kid: previous.VersionId,
        secret: previous.SecretString,
        stage: "previous",
        notAfter: Math.floor(createdAt / 1000) + this.options.keyRotationOverlapSeconds,
      });
      return keys;
    }
  }

  /** The secret's versions and their stages, or undefined when the secret does not exist. */
  private async describe(secretId: string): Promise<DescribeSecretCommandOutput | undefined> {
    try {
      return await this.client.send(new DescribeSecretCommand({ SecretId: secretId }));
    } catch (error) {
      if (errorName(error) === "ResourceNotFoundException") return undefined;
      // Already classified (./faults.ts): a throttled or unreachable Secrets Manager is a 503, not a bug.
      if (isEmbedError(error)) throw error;
      throw new Error(`secret ${secretId} (describe): ${errorName(error) ?? "unknown error"}`, { cause: error });
    }
  }

  /** One version (by stage or id), or undefined when the secret or the version does not exist. */
  private async version(
    secretId: string,
    which: { VersionStage: string } | { VersionId: string },
  ): Promise<GetSecretValueCommandOutput | undefined> {
    const stage = "VersionStage" in which ? which.VersionStage : "previous version";
    try {
      return await this.client.send(new GetSecretValueCommand({ SecretId: secretId, ...which }));
    } catch (error) {
      if (errorName(error) === "ResourceNotFoundException") return undefined;
      // Already classified (./faults.ts): a throttled or unreachable Secrets Manager is a 503, not a bug.
      if (isEmbedError(error)) throw error;
      // Only the error name travels on: SDK errors never carry the value, but be explicit about it.
      throw new Error(`secret ${secretId} (${stage}): ${errorName(error) ?? "unknown error"}`, { cause: error });
    }
  }
}
