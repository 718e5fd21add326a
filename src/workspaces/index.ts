export { createRunDirectory, isWithin, resolveTrustedWorkdir } from './trusted-roots.js';
export { restoreWorktree, snapshotWorktree } from './worktree-snapshot.js';
export {
  commitAll,
  createWorktree,
  diffAgainstBase,
  git,
  parseNumstat,
  PATCHBAY_COMMITTER,
  removeWorktree,
  type ChangedFile,
  type GitOptions,
} from './git.js';
export {
  addressRefusal,
  AddressRefusedError,
  guardedLookup,
  isForbiddenAddress,
  resolvePublicAddresses,
  type Resolver,
} from './address-policy.js';
export { assertSafeRepoUrl, type CheckedRepoUrl } from './repo-url.js';
export {
  assertRepoPath,
  cloneRepo,
  fetchRepo,
  headBranch,
  inspectLocalRepo,
  listRepoFiles,
  remoteTransportArgs,
} from './repos.js';
export {
  bwrapArgv,
  prepareAgentState,
  probeBwrap,
  type AgentState,
  type PreparedAgentState,
  type SandboxKind,
  type SandboxOptions,
} from './sandbox.js';
