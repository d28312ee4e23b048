/** UsageStore contract: atomic per-(user, metric) counters. */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useWorld, WORLD_KINDS } from "./worlds.ts";

describe.each(WORLD_KINDS)("UsageStore contract [%s]", (kind) => {
  const world = useWorld(kind, "usage");
  const userId = () => `u-${randomUUID()}`;

  it("starts at 0 and returns the running total from add", async () => {
    const { usage } = world().deps;
    const user = userId();
    expect(await usage.get(user, "transactions")).toBe(0);
    expect(await usage.add(user, "transactions", 1)).toBe(1);
    expect(await usage.add(user, "transactions", 5)).toBe(6);
    expect(await usage.get(user, "transactions")).toBe(6);
  });

  it("keeps counters per user and per metric", async () => {
    const { usage } = world().deps;
    const a = userId();
    const b = userId();
    await usage.add(a, "transactions", 3);
    await usage.add(a, "reports", 2);
    await usage.add(b, "transactions", 7);
    expect(await usage.get(a, "transactions")).toBe(3);
    expect(await usage.get(a, "reports")).toBe(2);
    expect(await usage.get(b, "transactions")).toBe(7);
    expect(await usage.get(b, "reports")).toBe(0);
  });

  it("loses no increment under 50 concurrent adds, each seeing a distinct total", async () => {
    const { usage } = world().deps;
    const user = userId();
    const totals = await world().race(50, (contenders) =>
      Promise.all(contenders.map((contender) => contender.usage.add(user, "transactions", 1))),
    );
    expect(await usage.get(user, "transactions")).toBe(50);
    expect([...totals].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it("adds larger amounts exactly", async () => {
    const { usage } = world().deps;
    const user = userId();
    await Promise.all([usage.add(user, "m", 1000), usage.add(user, "m", 234), usage.add(user, "m", 0)]);
    expect(await usage.get(user, "m")).toBe(1234);
  });
});
