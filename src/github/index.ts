export {
  createGithubClient,
  GithubApiError,
  graphqlUrl,
  type GithubClient,
  type GithubClientOptions,
  type HttpMethod,
} from './client.js';
export {
  createCommitIdentities,
  noreplyEmail,
  withCoAuthors,
  type CommitAuthorship,
  type CommitIdentities,
  type CommitIdentity,
} from './identity.js';
export { deliverRun, runGates, type DeliveryContext } from './delivery.js';
export {
  allGatesPassed,
  gateLines,
  PATCHBAY_MARKER,
  pullRequestBody,
  pullRequestTitle,
  runBranchName,
  statusComment,
  type GateResult,
} from './pull-request-body.js';
export { PushRefused, pushRunBranch } from './push.js';
export { isValidSignature, signBody } from './signature.js';
export {
  decideTrigger,
  mentions,
  requestOf,
  runIdOfBranch,
  type TriggerDecision,
  type TriggerSettings,
} from './triggers.js';
export { openProposalPullRequest, proposalBody, speedupText } from './proposal-pr.js';
