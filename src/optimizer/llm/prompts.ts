/**
 * What the model is told when it looks for performance work: one system prompt per stack,
 * since what is slow in a Next.js app (data fetched per request, client bundles) is not what
 * is slow in a plain library (hot loops, allocation). Both discovery steps and the patch step
 * share the stack's prompt and the same rules about what a patch may touch.
 */
import type { Framework } from '../../contracts/index.js';
import { MAX_CHANGED_LINES, MAX_FILES } from '../patch/index.js';

const STACK_FOCUS: Record<Framework, string> = {
  nextjs:
    'This is a Next.js application. Look for: data fetched on every request that could be cached or fetched once (fetch cache options, unstable_cache, memoised loaders), client components that could be server components, large modules pulled into client bundles that could be split or loaded lazily (next/dynamic), and repeated work in server components and route handlers.',
  nestjs:
    'This is a NestJS application. Look for: N+1 queries in services and resolvers, work repeated per request that providers could do once (DI scope: request-scoped providers that could be singletons), interceptors and pipes doing heavy work on every call, and synchronous CPU work on the request path.',
  express:
    'This is an Express application. Look for: middleware order (expensive middleware before cheap rejections, body parsers on routes that need none), work repeated per request that could be hoisted out of the handler, closures and regular expressions re-created per request, and unhandled async errors that stall requests.',
  'react-vite':
    'This is a React application built with Vite. Look for: components that re-render more than they need to (unstable props, inline objects and callbacks passed to memoised children), expensive computations in render that useMemo could keep, lists without stable keys, and heavy modules that could be loaded lazily.',
  library:
    'This is a JavaScript/TypeScript library. Look for: hot loops doing avoidable work (allocation per iteration, repeated lookups, quadratic searches that a Set or Map would make linear), intermediate arrays that one pass would avoid, values recomputed on every call that could be computed once, and regular expressions or collators built per call.',
  unknown:
    'Look for: hot loops doing avoidable work (allocation per iteration, repeated lookups, quadratic searches that a Set or Map would make linear), intermediate arrays that one pass would avoid, and values recomputed on every call that could be computed once.',
};

/** The system prompt of every optimizer call for a repository of this stack. */
export function systemPrompt(framework: Framework): string {
  return [
    'You are a performance engineer reviewing a JavaScript/TypeScript repository. You suggest only changes that keep behaviour identical (same results, same errors, same order) and make measured code faster.',
    STACK_FOCUS[framework],
    `A change may touch at most ${MAX_FILES} files and ${MAX_CHANGED_LINES} changed lines, only the repository's own source: never tests, configuration, lockfiles or package.json, and never a new dependency.`,
    "Every change is checked by the repository's tests and kept only when its benchmarks prove it faster, so prefer a few likely wins over many guesses.",
    'Answer with one JSON object and nothing else, in the shape each request asks for.',
  ].join('\n\n');
}

/** Source with 1-based line numbers, so the model can say where (never used to edit). */
export function numbered(text: string): string {
  return text
    .split('\n')
    .map((line, i) => `${String(i + 1).padStart(5)}  ${line}`)
    .join('\n');
}
