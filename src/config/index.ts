/**
 * `.sops.yaml`: discovery, validation (pure, problems with field paths), creation-rule
 * matching and Go RE2 regex translation.
 */
export {
  ENCRYPTION_RULE_FIELDS,
  closest,
  dedupeKeys,
  editDistance,
  formatPath,
  parseConfig,
  storeSettings,
  validateConfig,
} from './schema.js';
export type {
  ConfigProblem,
  CreationRule,
  Destination,
  DestinationRule,
  EncryptionRule,
  EncryptionRuleField,
  KeySpec,
  KeyType,
  Segment,
  SopsConfig,
  StoreSettings,
  StoresConfig,
  ValidationResult,
} from './schema.js';
export { configDirOf, explainMatch, matchCreationRule, targetPath } from './match.js';
export type { CreationRuleMatch, MatchExplanation, MatchOptions, ResolvedRule, RuleMiss } from './match.js';
export {
  ALTERNATE_CONFIG_NAME,
  CONFIG_FILE_NAME,
  MAX_SEARCH_DEPTH,
  discoverConfig,
  discoverConfigSync,
  searchDirectories,
} from './discover.js';
export type { ConfigFs, ConfigFsSync, ConfigSource, DiscoverOptions, DiscoveryResult } from './discover.js';
export { formatProblem, loadConfig, loadConfigSync, loadStoreSettings } from './load.js';
export type { LoadOptions, LoadSyncOptions, LoadedConfig, LoadedStoreSettings } from './load.js';
export { Re2SyntaxError, compileRe2, translateRe2 } from './regex.js';
export type { TranslatedRegex } from './regex.js';
