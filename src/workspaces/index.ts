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
  bwrapArgv,
  prepareAgentState,
  probeBwrap,
  type AgentState,
  type PreparedAgentState,
  type SandboxKind,
  type SandboxOptions,
} from './sandbox.js';
