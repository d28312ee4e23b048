import {
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

/**
 * Partner signing keys from Secrets Manager: one secret per partner whose
 * SecretString is the HMAC secret. AWSCURRENT is the current key; after a
 * rotation (PutSecretValue) AWSPREVIOUS is the previous key, accepted until
 * the current version's CreatedDate + the rotation overlap. `kid` = VersionId.
 * Keys are cached, never fetched per request; secret values are never logged.
 */
export class SecretsManagerPartnerSecrets implements PartnerSecrets {
  private readonly cache: TtlCache<readonly PartnerKey[]>;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly options: SecretsManagerPartnerSecretsOptions,
  ) {
    this.cache = new TtlCache(options.cacheSeconds, options.clock ?? Date.now);
  }

  async getKeys(partnerId: string): Promise<readonly PartnerKey[]> {
    if (!PARTNER_ID_PATTERN.test(partnerId)) return [];
    return this.cache.get(partnerId, () => this.load(`${this.options.secretPrefix}${partnerId}`));
  }

  private async load(secretId: string): Promise<readonly PartnerKey[]> {
    const [current, previous] = await Promise.all([this.version(secretId, "AWSCURRENT"), this.version(secretId, "AWSPREVIOUS")]);
    if (current?.SecretString === undefined || current.VersionId === undefined) return [];
    const keys: PartnerKey[] = [{ kid: current.VersionId, secret: current.SecretString, stage: "current" }];
    // A rotation between the two reads can make both name one version; that is no previous key.
    if (previous?.SecretString !== undefined && previous.VersionId !== undefined && previous.VersionId !== current.VersionId) {
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
    }
    return keys;
  }

  /** One staged version, or undefined when the secret or the stage does not exist. */
  private async version(secretId: string, stage: string): Promise<GetSecretValueCommandOutput | undefined> {
    try {
      return await this.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
    } catch (error) {
      if (errorName(error) === "ResourceNotFoundException") return undefined;
      // Already classified (./faults.ts): a throttled or unreachable Secrets Manager is a 503, not a bug.
      if (isEmbedError(error)) throw error;
      // Only the error name travels on: SDK errors never carry the value, but be explicit about it.
      throw new Error(`secret ${secretId} (${stage}): ${errorName(error) ?? "unknown error"}`, { cause: error });
    }
  }
}
