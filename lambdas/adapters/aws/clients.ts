/**
 * AWS SDK clients, one of each per process, shared by every adapter and
 * built on first use: a handler that never touches Secrets Manager never
 * pays for building its client (about as much as importing it). Region,
 * credentials and endpoint come from the environment: the SDK itself honours
 * `AWS_REGION` and `AWS_ENDPOINT_URL` (an emulator such as MiniStack or
 * LocalStack in tests), so there is no local/deployed branch here.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

let dynamoDb: DynamoDBClient | undefined;
let secretsManager: SecretsManagerClient | undefined;

/** The process's DynamoDB client. */
export function dynamoDbClient(): DynamoDBClient {
  dynamoDb ??= new DynamoDBClient({});
  return dynamoDb;
}

/** The process's Secrets Manager client. */
export function secretsManagerClient(): SecretsManagerClient {
  secretsManager ??= new SecretsManagerClient({});
  return secretsManager;
}
