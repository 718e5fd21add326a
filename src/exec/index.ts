export {
  decodeWrappedExit,
  pidNamespaceArgv,
  probePidNamespace,
  type Containment,
  type PidNamespace,
} from './containment.js';
export { OutputCap, type OutputCapOptions, type OutputStream } from './output-buffer.js';
export { currentBootId, isGroupAlive, isProcessAlive, signalGroup } from './process-group.js';
export { loadPty, requirePty, type PtyModule } from './pty.js';
export {
  supervise,
  type ExitInfo,
  type ExitReason,
  type OutputSink,
  type SpawnSpec,
  type SupervisedProcess,
  type SupervisorLimits,
} from './supervisor.js';
