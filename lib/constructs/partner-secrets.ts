import { ArnFormat, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { EnvironmentName, PartnerConfig } from "../../config/schema.ts";

/** Length of a generated partner secret (the core requires >= 32). */
export const PARTNER_SECRET_LENGTH = 64;

/** `jupid-embed/<env>/partners/`: the value of `JUPID_SECRET_PREFIX`; a secret's name is prefix + partner id. */
export function partnerSecretPrefix(environment: EnvironmentName): string {
  return `jupid-embed/${environment}/partners/`;
}

export interface PartnerSecretsProps {
  readonly environment: EnvironmentName;
  readonly partners: readonly PartnerConfig[];
}

/**
 * One Secrets Manager secret per partner, `${prefix}${partnerId}`, whose
 * SecretString is the HMAC key itself: 64 alphanumeric characters generated
 * by Secrets Manager at creation, so the value exists in no file, template or
 * log. Rotation is `PutSecretValue` (AWSCURRENT moves to the new version,
 * AWSPREVIOUS keeps the old one for the overlap the core allows); CloudFormation
 * never regenerates the value because the generator settings never change.
 *
 * Secrets are always retained: a partner removed from config keeps its
 * secret (and can be re-enabled) until someone retires it on purpose
 * (the README (Deploying)).
 */
export class PartnerSecrets extends Construct {
  readonly prefix: string;
  readonly secrets: ReadonlyMap<string, secretsmanager.Secret>;

  constructor(scope: Construct, id: string, props: PartnerSecretsProps) {
    super(scope, id);
    this.prefix = partnerSecretPrefix(props.environment);
    const secrets = new Map<string, secretsmanager.Secret>();
    for (const partner of props.partners) {
      const secret = new secretsmanager.Secret(this, partner.id, {
        secretName: `${this.prefix}${partner.id}`,
        description: `HS256 signing key shared with partner ${partner.id} (${props.environment}); rotate with PutSecretValue`,
        generateSecretString: {
          passwordLength: PARTNER_SECRET_LENGTH,
          excludePunctuation: true,
          includeSpace: false,
        },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(secret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason:
          "The key is shared with a partner's servers, so rotation is a coordinated hand-over (PutSecretValue, then the partner switches within keyRotationOverlapSeconds), not an unattended schedule; see the README (Deploying).",
      });
      secrets.set(partner.id, secret);
    }
    this.secrets = secrets;
  }

  /**
   * Allow reading the OIDC client secrets (`<prefix><partnerId>/oidc-client`)
   * of the partners that have an `oidc` block. They are not created here: the
   * value comes from the partner's provider and is put by the operator CLI.
   */
  grantReadOidcClientSecrets(grantee: iam.IGrantable, partners: readonly PartnerConfig[]): void {
    const ids = partners.filter((partner) => partner.oidc).map((partner) => partner.id);
    if (ids.length === 0) return;
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["secretsmanager:GetSecretValue"],
      // Secrets Manager appends a 6-character suffix to every ARN.
      resourceArns: ids.map((id) =>
        stack.formatArn({ service: "secretsmanager", resource: "secret", resourceName: `${this.prefix}${id}/oidc-client-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ),
    });
  }

  /** Allow reading the partner keys (current and previous stage) and nothing else. */
  grantRead(grantee: iam.IGrantable): void {
    if (this.secrets.size === 0) return;
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      resourceArns: [...this.secrets.values()].map((secret) => secret.secretArn),
    });
  }
}
