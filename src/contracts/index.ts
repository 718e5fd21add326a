export {
  errorCatalog,
  errorCodes,
  invalidBodyField,
  isErrorCode,
  isPatchbayError,
  PatchbayError,
  type ErrorCode,
  type ErrorDefinition,
  type ErrorKind,
} from './errors.js';
export {
  AgentName,
  CallbackDelivery,
  CallbackDeliveryList,
  ChangedFile,
  ChangedFileList,
  CreateRunRequest,
  isActiveStatus,
  isTerminalStatus,
  ListRunsQuery,
  OutputPolicy,
  QueueHealth,
  Run,
  RunError,
  RunList,
  RunStatus,
  terminalStatuses,
  type ParsedCreateRunRequest,
  type TerminalStatus,
} from './runs.js';
export {
  DroppedEventData,
  ListEventsQuery,
  OutputEventData,
  RunEvent,
  RunEventList,
  RunEventType,
  StatusEventData,
} from './events.js';
export { ErrorBody, HealthBody, RunIdParams } from './http.js';
export { assertNever } from './assert-never.js';
export {
  CreateRepoRequest,
  Repo,
  RepoFile,
  RepoFileList,
  RepoFilesQuery,
  RepoList,
} from './repos.js';
export {
  Conversation,
  ConversationAgent,
  ConversationIdParams,
  ConversationList,
  ConversationMessage,
  ConversationWithMessages,
  CreateConversationRequest,
  ListConversationsQuery,
  PostMessageRequest,
} from './conversations.js';
export { Worker, WorkerList } from './workers.js';
export {
  Budget,
  BudgetLimitName,
  BudgetLimits,
  BudgetList,
  BudgetRepoParams,
  BudgetUsage,
  type BudgetExceededDetails,
} from './budgets.js';
export {
  CreateScheduleRequest,
  Schedule,
  ScheduleFire,
  ScheduleIdParams,
  ScheduleList,
  ScheduleRunRequest,
  ScheduleWithFires,
  UpdateScheduleRequest,
  type ParsedCreateScheduleRequest,
  type ParsedUpdateScheduleRequest,
} from './schedules.js';
export {
  Candidate,
  CommandKind,
  DetectedCommand,
  DetectResult,
  Evidence,
  Framework,
  Opportunity,
  PatchRejection,
  Risk,
  RuleId,
  SpeedupVerdict,
} from './optimizer.js';
