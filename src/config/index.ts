export {
  CONFIG_FILE_NAME,
  CONFIG_PATH_ENV,
  colorPreference,
  isCI,
  loadConfig,
  secretValues,
  type ConfigProblem,
  type LoadConfigOptions,
} from './load.js';
export { settings, type ResolvedConfig, type SettingKey } from './schema.js';
export { effectiveSettings, MASK } from './effective.js';
export { agentCredentialEnv, type CredentialAgent } from './settings/execution.js';
export { CompatLayer } from './settings/compat.js';
export type { SettingSpec } from './settings/spec.js';
export { llmChildEnv } from './llm-env.js';
export type { TelegramBot } from './settings/inbound.js';
export { runChildEnv, stageProcessEnv, type ChildEnvLayers } from './child-env.js';
export { PACKAGE_NAME, packageVersion } from './version.js';
