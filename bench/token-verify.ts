/**
 * Measurement 1: token verification in-process.
 *
 * Four verifiers check the same tokens: the Jupid policy (verifyPartnerToken,
 * with every pre-check), jose's jwtVerify, jsonwebtoken's verify, and a bare
 * HMAC-SHA256 over the signing input with node:crypto (the physical floor:
 * no parsing, no claims, just the MAC and a constant-time compare).
 *
 * Each operation is timed on its own with process.hrtime.bigint; the
 * verifiers take turns in batches so that machine noise lands on all of them.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { jwtVerify } from "jose";
import jwt from "jsonwebtoken";
import { verifyPartnerToken } from "../lambdas/core/token-policy.ts";
import type { PartnerKey } from "../lambdas/ports/index.ts";
import { mintToken } from "../test/fixtures/tokens.ts";
import type { Measurement, Row } from "./report.ts";
import { ms, ratio, summarize, type Summary } from "./stats.ts";

const PARTNER = { id: "bench-partner", maxTokenLifetimeSeconds: 300 } as const;
const AUDIENCE = "jupid-embed";
/** Issue 16: the policy's median within this many times the bare HMAC floor measured in the same run. */
export const TOKEN_VERIFY_GOAL_FLOOR_RATIO = 5;
/** Issue 16: the policy's p99 below this (ms). */
export const TOKEN_VERIFY_GOAL_P99_MS = 0.1;

export interface TokenVerifyOptions {
  readonly tokens?: number;
  readonly batchSize?: number;
  readonly batches?: number;
  readonly warmupBatches?: number;
}

interface Verifier {
  readonly id: string;
  readonly label: string;
  /** Returns something truthy (or a promise of it) on success; throws or returns false on failure. */
  readonly verify: (token: string) => unknown;
}

export async function measureTokenVerify(options: TokenVerifyOptions = {}): Promise<Measurement> {
  const { tokens: tokenCount = 1024, batchSize = 500, batches = 40, warmupBatches = 4 } = options;
  const secret = randomBytes(36).toString("base64url");
  const secretBytes = new TextEncoder().encode(secret);
  const secretBuffer = Buffer.from(secret, "utf8");
  const now = Date.now();
  const nowSeconds = Math.floor(now / 1000);
  const keys: PartnerKey[] = [{ kid: "k1", secret, stage: "current" }];
  // Distinct tokens (fresh jti each), shaped like a partner's: sub, email, name, a small payload.
  const tokens = Array.from({ length: tokenCount }, () => mintToken(PARTNER.id, { secret }, nowSeconds));

  const verifiers: Verifier[] = [
    {
      id: "hmac",
      label: "HMAC-SHA256 floor (node:crypto)",
      verify: (token) => {
        const dot = token.lastIndexOf(".");
        const mac = createHmac("sha256", secretBuffer).update(token.slice(0, dot)).digest();
        const signature = Buffer.from(token.slice(dot + 1), "base64url");
        return signature.length === mac.length && timingSafeEqual(signature, mac);
      },
    },
    {
      id: "jose",
      label: "jose jwtVerify",
      verify: (token) =>
        jwtVerify(token, secretBytes, { algorithms: ["HS256"], issuer: PARTNER.id, audience: AUDIENCE, currentDate: new Date(now) }),
    },
    {
      id: "jsonwebtoken",
      label: "jsonwebtoken verify",
      verify: (token) =>
        jwt.verify(token, secret, { algorithms: ["HS256"], issuer: PARTNER.id, audience: AUDIENCE, clockTimestamp: nowSeconds }),
    },
    {
      id: "jupid",
      label: "Jupid policy (verifyPartnerToken)",
      verify: (token) => verifyPartnerToken(token, PARTNER, keys, now),
    },
  ];

  // Every verifier must accept every token, or the comparison means nothing.
  for (const verifier of verifiers) {
    for (const token of tokens.slice(0, 8)) {
      if (!(await verifier.verify(token))) throw new Error(`${verifier.label} rejected a valid token`);
    }
  }

  const samples = new Map(verifiers.map((v) => [v.id, new Float64Array(batches * batchSize)]));
  let cursor = 0;
  const runBatch = async (verifier: Verifier, into: Float64Array | undefined, offset: number) => {
    for (let i = 0; i < batchSize; i++) {
      const token = tokens[cursor++ % tokens.length] as string;
      const started = process.hrtime.bigint();
      const result = verifier.verify(token);
      if (result instanceof Promise) await result;
      const elapsed = process.hrtime.bigint() - started;
      if (into) into[offset + i] = Number(elapsed) / 1e6;
    }
  };
  for (let b = 0; b < warmupBatches; b++) for (const verifier of verifiers) await runBatch(verifier, undefined, 0);
  const wallStarted = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) {
    // Rotate the starting verifier so none always runs right after a GC-heavy neighbour.
    for (let k = 0; k < verifiers.length; k++) {
      const verifier = verifiers[(b + k) % verifiers.length] as Verifier;
      await runBatch(verifier, samples.get(verifier.id), b * batchSize);
    }
  }
  const wallMs = Number(process.hrtime.bigint() - wallStarted) / 1e6;

  const stats = Object.fromEntries(verifiers.map((v) => [v.id, summarize(samples.get(v.id) as Float64Array)])) as Record<string, Summary>;
  const floor = stats.hmac as Summary;
  const jose = stats.jose as Summary;
  const ours = stats.jupid as Summary;
  const rows: Row[] = verifiers.map((v) => {
    const s = stats[v.id] as Summary;
    const vsFloor = ratio(s.median, floor.median, "floor");
    if (v.id === "jupid") {
      return {
        name: `token verify: ${v.label}`,
        median: ms(s.median),
        p99: ms(s.p99),
        ratio: `${vsFloor}, ${ratio(s.median, jose.median, "jose")}`,
        goal: `≤ ${TOKEN_VERIFY_GOAL_FLOOR_RATIO}× floor, p99 < ${ms(TOKEN_VERIFY_GOAL_P99_MS)}`,
        pass: s.median <= TOKEN_VERIFY_GOAL_FLOOR_RATIO * floor.median && s.p99 < TOKEN_VERIFY_GOAL_P99_MS,
        value: s.median,
        unit: "ms",
      };
    }
    return {
      name: `token verify: ${v.label}`,
      median: ms(s.median),
      p99: ms(s.p99),
      ratio: v.id === "hmac" ? "1.00× floor" : `${ratio(s.median, jose.median, "jose")}, ${vsFloor}`,
      goal: "reference",
      pass: undefined,
      value: s.median,
      unit: "ms",
    };
  });

  return {
    rows,
    data: {
      unit: "ms per verification",
      tokens: tokenCount,
      batchSize,
      batches,
      warmupBatches,
      samplesPerVerifier: batches * batchSize,
      wallMs,
      stats,
      ratios: {
        jupidVsJoseMedian: ours.median / jose.median,
        jupidVsFloorMedian: ours.median / floor.median,
        joseVsFloorMedian: jose.median / floor.median,
        jsonwebtokenVsJoseMedian: (stats.jsonwebtoken as Summary).median / jose.median,
      },
    },
    notes: [
      `token verify: ${batches * batchSize} timed ops per verifier (after ${warmupBatches * batchSize} warm-up), ${tokenCount} distinct HS256 tokens with sub/email/name/payload; verifiers interleaved in batches of ${batchSize}, each op timed with process.hrtime.bigint.`,
      "token verify: jose and jsonwebtoken check alg, iss, aud, exp; the floor is createHmac over the signing input + timingSafeEqual, nothing else. The Jupid policy runs every stage (size, canonical base64url, UTF-8, duplicate keys, header, key selection, HMAC with a cached KeyObject, every claim).",
    ],
  };
}
