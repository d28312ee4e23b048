/**
 * Counts the AWS calls a client makes, with an SDK middleware: every command
 * sent through the client is recorded with its name, when it started and
 * ended, and the error name if it failed. Tests assert counts (never
 * timings); the start/end marks only say which calls overlapped, so that
 * "sequential calls" (round trips one after the other) can be counted.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

export interface RecordedCall {
  readonly command: string;
  readonly startedAt: number;
  endedAt: number;
  /** The service exception's name when the call failed. */
  error?: string;
}

export interface CallCounter {
  readonly calls: readonly RecordedCall[];
  /** Commands in the order they were sent. */
  commands(): string[];
  failed(): RecordedCall[];
  /**
   * How many round trips the calls took one after another: calls that
   * overlap in time count as one step (the critical path of the recorded calls).
   */
  sequentialSteps(): number;
  reset(): void;
}

let sequence = 0;

export function countCalls(client: DynamoDBClient | SecretsManagerClient): CallCounter {
  const calls: RecordedCall[] = [];
  // A monotonic counter, not a clock: "started after the other ended" is all that matters.
  const tick = () => ++sequence;
  (client.middlewareStack as DynamoDBClient["middlewareStack"]).add(
    (next, context) => async (args) => {
      const call: RecordedCall = { command: String(context.commandName), startedAt: tick(), endedAt: Number.POSITIVE_INFINITY };
      calls.push(call);
      try {
        return await next(args);
      } catch (error) {
        call.error = error instanceof Error ? error.name : "unknown";
        throw error;
      } finally {
        call.endedAt = tick();
      }
    },
    { step: "initialize", name: "jupidCallCounter" },
  );
  return {
    calls,
    commands: () => calls.map((call) => call.command),
    failed: () => calls.filter((call) => call.error !== undefined),
    sequentialSteps() {
      const sorted = [...calls].sort((a, b) => a.startedAt - b.startedAt);
      let steps = 0;
      let stepEnds = Number.NEGATIVE_INFINITY;
      for (const call of sorted) {
        if (call.startedAt > stepEnds) {
          steps++;
          stepEnds = call.endedAt;
        } else {
          stepEnds = Math.max(stepEnds, call.endedAt);
        }
      }
      return steps;
    },
    reset: () => {
      calls.length = 0;
    },
  };
}
