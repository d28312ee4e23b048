/**
 * AWS SDK clients, one of each per process, shared by every adapter and
 * built on first use: a handler that never touches Secrets Manager never
 * pays for building its client (about as much as importing it). Region,
 * credentials and endpoint come from the environment: the SDK itself honours
 * `AWS_REGION` and `AWS_ENDPOINT_URL` (an emulator such as MiniStack or
 * LocalStack in tests), so there is no local/deployed branch here.
 * Each client has time limits per attempt and turns what is left of
 * throttling, outages and timeouts after its retries into SERVICE_UNAVAILABLE
 * (./faults.ts).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { classifyFaults, REQUEST_TIMEOUTS } from "./faults.ts";

let dynamoDb: DynamoDBClient | undefined;
let secretsManager: SecretsManagerClient | undefined;

/** The process's DynamoDB client. */
export function dynamoDbClient(): DynamoDBClient {
  if (!dynamoDb) {
    dynamoDb = new DynamoDBClient({ requestHandler: REQUEST_TIMEOUTS });
    dynamoDb.middlewareStack.use(classifyFaults());
  }
  return dynamoDb;
}

/** The process's Secrets Manager client. */
export function secretsManagerClient(): SecretsManagerClient {
  if (!secretsManager) {
    secretsManager = new SecretsManagerClient({ requestHandler: REQUEST_TIMEOUTS });
    secretsManager.middlewareStack.use(classifyFaults());
  }
  return secretsManager;
}
