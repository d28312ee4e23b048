/**
 * AWS SDK clients, built once per process at module scope and shared by every
 * adapter. Region, credentials and endpoint come from the environment: the
 * SDK itself honours `AWS_REGION` and `AWS_ENDPOINT_URL` (an emulator such as
 * MiniStack or LocalStack in tests), so there is no local/deployed branch here.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

export const dynamoDbClient = new DynamoDBClient({});
export const secretsManagerClient = new SecretsManagerClient({});
