/**
 * Hand marshalling for the few attribute shapes the tables use (S, N, BOOL).
 * Reading is strict: an item missing a required attribute, or holding the
 * wrong type, is a corrupt record and throws rather than becoming a default.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";

export type Item = Record<string, AttributeValue>;

export const str = (value: string): AttributeValue => ({ S: value });
export const num = (value: number): AttributeValue => ({ N: String(value) });
export const bool = (value: boolean): AttributeValue => ({ BOOL: value });

/** Raised when a stored item does not have the shape the adapter wrote. */
export class CorruptItemError extends Error {
  override readonly name = "CorruptItemError";
}

export function readString(item: Item, name: string, table: string): string {
  const value = item[name]?.S;
  if (value === undefined) throw new CorruptItemError(`${table}: attribute "${name}" is missing or not a string`);
  return value;
}

export function readOptionalString(item: Item, name: string, table: string): string | undefined {
  const attribute = item[name];
  if (attribute === undefined) return undefined;
  if (attribute.S === undefined) throw new CorruptItemError(`${table}: attribute "${name}" is not a string`);
  return attribute.S;
}

export function readNumber(item: Item, name: string, table: string): number {
  const text = item[name]?.N;
  const value = text === undefined ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) throw new CorruptItemError(`${table}: attribute "${name}" is missing or not a number`);
  return value;
}

export function readBoolean(item: Item, name: string, table: string): boolean {
  const value = item[name]?.BOOL;
  if (value === undefined) throw new CorruptItemError(`${table}: attribute "${name}" is missing or not a boolean`);
  return value;
}

/** The error name the SDK gives a service exception (`ConditionalCheckFailedException`, ...). */
export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
