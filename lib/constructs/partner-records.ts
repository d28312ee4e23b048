import { createHash } from "node:crypto";
import { CustomResource, Duration, type RemovalPolicy } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { PartnerConfig } from "../../config/schema.ts";
import type { PartnerSyncProperties } from "../../lambdas/handlers/partner-sync.ts";
import { EmbedFunction } from "./embed-function.ts";

export const PARTNER_RECORDS_RESOURCE_TYPE = "Custom::JupidPartnerRecords";

export interface PartnerRecordsProps {
  readonly table: dynamodb.ITable;
  /** The partners of the environment's config file, already validated (defaults applied). */
  readonly partners: readonly PartnerConfig[];
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * Writes the configured partners into the partners table on every deploy that
 * changes them (lambdas/handlers/partner-sync.ts documents the semantics:
 * upsert configured partners, mark removed ones disabled, never delete).
 *
 * A plain `AWS::CloudFormation::CustomResource` whose service token is our own
 * bundled function, which answers the ResponseURL itself: no provider
 * framework and no reliance on the runtime's AWS SDK, so the same resource
 * deploys in MiniStack/LocalStack. The properties carry the partner list and
 * its hash, so any config change is an Update of this resource.
 */
export class PartnerRecords extends Construct {
  readonly handler: EmbedFunction;
  readonly resource: CustomResource;
  /** SHA-256 (hex) of the partner JSON written to the table. */
  readonly partnersHash: string;

  constructor(scope: Construct, id: string, props: PartnerRecordsProps) {
    super(scope, id);
    this.handler = new EmbedFunction(this, "Sync", {
      entry: "lambdas/handlers/partner-sync.ts",
      description: "Writes partner records from config into the partners table (custom resource)",
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      timeout: Duration.minutes(2),
      invokedBy: "cloudformation",
    });
    // UpdateItem, not PutItem: a deploy must keep each record's sessionEpoch (revocations).
    props.table.grant(this.handler.role, "dynamodb:UpdateItem", "dynamodb:Scan");

    const partners = JSON.stringify(props.partners);
    this.partnersHash = createHash("sha256").update(partners).digest("hex");
    const properties: PartnerSyncProperties = {
      TableName: props.table.tableName,
      Partners: partners,
      PartnersHash: this.partnersHash,
    };
    this.resource = new CustomResource(this, "Resource", {
      serviceToken: this.handler.function.functionArn,
      resourceType: PARTNER_RECORDS_RESOURCE_TYPE,
      properties: { ...properties },
      // Fail the deploy in minutes, not CloudFormation's default hour, if the function never answers.
      serviceTimeout: Duration.minutes(5),
    });
  }
}
