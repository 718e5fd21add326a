/**
 * What a scanner rule is: a visitor over some syntax kinds (and optionally a pass at the end of
 * the file) that reports the nodes its guard accepts. Rules are syntactic: no type checker, so
 * every guard is conservative — when the shape cannot be proven, the rule stays silent.
 */
import type * as TS from 'typescript';
import type { Risk, RuleId } from '../../contracts/index.js';
import type { TypeScript } from '../typescript.js';

export type SyntaxKindName = keyof typeof TS.SyntaxKind;

/** Where the walk stands when a rule sees a node. */
export interface WalkState {
  /** Enclosing loops and iteration callbacks (`.map(x => …)`), across function boundaries. */
  loopDepth: number;
  /** Loop statements between the node and its nearest enclosing function. */
  loopsInFunction: number;
  /** Nearest enclosing function-like node, undefined at module level. */
  fn: TS.SignatureDeclaration | undefined;
}

export interface ReportOptions {
  /** Only worth reporting on a hot path: inside a loop or in a file reached from an entry point. */
  requiresHot?: boolean;
  /** Replaces the rule's generic rationale when the finding has something specific to say. */
  rationale?: string;
  /** Overrides the walk's loop depth (end-of-file rules report far from where the cost is). */
  loopDepth?: number;
  /** Overrides the rule's weight for this finding (one rule, shapes of different cost). */
  weight?: number;
}

export interface RuleContext {
  ts: TypeScript;
  sf: TS.SourceFile;
  state: WalkState;
  /** Every identifier of the file by name (filled before `finish` runs). */
  identifiers: Map<string, TS.Identifier[]>;
  report(node: TS.Node, options?: ReportOptions): void;
}

export interface Rule {
  id: RuleId;
  /** How much a hit is likely to matter, 1..10: quadratic copies high, micro-tweaks low. */
  weight: number;
  risk: Risk;
  rationale: string;
  expectedEffect: string;
  /** True for the flag-only rules (no rewrite template). */
  flagOnly?: boolean;
  /** Syntax kinds `visit` is called for. */
  kinds?: readonly SyntaxKindName[];
  visit?(node: TS.Node, ctx: RuleContext): void;
  /** Called once after the walk, with `ctx.identifiers` complete. */
  finish?(ctx: RuleContext): void;
}
