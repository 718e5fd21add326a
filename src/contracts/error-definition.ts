/**
 * What one entry of the error catalog says. `kind` tells who must act: `user` (fix the
 * request), `operational` (the environment misbehaved: retry or fix the deployment),
 * `unexpected` (a bug: report it).
 */
export type ErrorKind = 'user' | 'operational' | 'unexpected';

export interface ErrorDefinition {
  /** HTTP status used when the error answers a request. */
  readonly status: number;
  readonly kind: ErrorKind;
  /** Default human message; a thrown error may give a more specific one. */
  readonly message: string;
}
