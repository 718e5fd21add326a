export { createRunDirectory, isWithin, resolveTrustedWorkdir } from './trusted-roots.js';
