export { createRunDirectory, isWithin, resolveTrustedWorkdir } from './trusted-roots.js';
export {
  commitAll,
  createWorktree,
  diffAgainstBase,
  git,
  parseNumstat,
  removeWorktree,
  type ChangedFile,
  type GitOptions,
} from './git.js';
export { assertSafeRepoUrl, isForbiddenAddress, type Resolver } from './repo-url.js';
export { assertRepoPath, cloneRepo, headBranch, inspectLocalRepo, listRepoFiles } from './repos.js';
export {
  agentStatePaths,
  bwrapArgv,
  probeBwrap,
  type SandboxKind,
  type SandboxOptions,
} from './sandbox.js';
