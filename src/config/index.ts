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
export {
  agentCredentialEnv,
  settings,
  type CredentialAgent,
  type ResolvedConfig,
  type SettingKey,
  type SettingSpec,
} from './schema.js';
export { PACKAGE_NAME, packageVersion } from './version.js';
