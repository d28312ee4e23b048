/**
 * Environment variables are read once, through this helper, so a missing one
 * fails at cold start with its name instead of as an undefined table later.
 */
export type Env = Readonly<Record<string, string | undefined>>;

/** Raised when a required environment variable is absent or empty. */
export class MissingEnvError extends Error {
  override readonly name = "MissingEnvError";
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is required but not set`);
  }
}

/** The value of `name` in `env`; throws {@link MissingEnvError} when it is missing or empty. */
export function requireEnv(name: string, env: Env = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") throw new MissingEnvError(name);
  return value;
}
