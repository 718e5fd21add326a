/** Exhaustiveness guard for closed unions: a new member fails the typecheck here. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
