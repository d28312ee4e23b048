/**
 * AWS SDK clients, built once per process at module scope and shared by every
 * adapter. Region, credentials and endpoint come from the environment: the
 * SDK itself honours `AWS_REGION` and `AWS_ENDPOINT_URL` (an emulator such as
 * MiniStack or LocalStack in tests), so there is no local/deployed branch here.
 * Each client has time limits per attempt and turns what is left of
 * throttling, outages and timeouts after its retries into SERVICE_UNAVAILABLE
 * (./faults.ts).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { classifyFaults, REQUEST_TIMEOUTS } from "./faults.ts";

export const dynamoDbClient = new DynamoDBClient({ requestHandler: REQUEST_TIMEOUTS });
export const secretsManagerClient = new SecretsManagerClient({ requestHandler: REQUEST_TIMEOUTS });
dynamoDbClient.middlewareStack.use(classifyFaults());
secretsManagerClient.middlewareStack.use(classifyFaults());
