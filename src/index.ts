/**
 * tsops: encrypted configuration files, file-compatible with getsops/sops.
 *
 * Explicit re-exports only; everything here is public API.
 */
export {
  encrypt,
  encryptBytes,
  encryptFile,
  decrypt,
  decryptBytes,
  decryptFile,
  decryptTree,
  extract,
  extractBytes,
  loadPlain,
  type CommonOptions,
  type DecryptOptions,
  type EncryptOptions,
} from './api.js';
export { SopsError, ParseError, MacError, DataKeyError, DecryptValueError, ConfigError, ExitCode, isSopsError, type KeyFailure } from './errors.js';
export { makeKeyContext, type ContextOptions } from './io/context.js';
export type { KeyContext, KeyKind, MasterKey, RunOptions, RunResult } from './keys/types.js';
export { KeyUnavailableError } from './keys/types.js';
export { formatFromPath, storeFor, type FormatName, type Store } from './stores/index.js';
export type { Metadata } from './stores/metadata.js';
export { parseTreePath, getAtPath, type PathStep } from './tree/path.js';
export type { Node, MapNode, SeqNode, Entry, CommentNode, Leaf } from './tree/types.js';
export { toJS } from './tree/to-js.js';
export { VERSION } from './version.js';
export { generateAgeIdentity, ageRecipientOf } from './keys/age.js';
export {
  rotate,
  planUpdateKeys,
  applyUpdateKeys,
  updateKeys,
  addKeyGroup,
  deleteKeyGroup,
  fileStatus,
  listKeys,
  keyIdentity,
  type RotateOptions,
  type KeyChangeResult,
  type UpdateKeysOptions,
  type UpdateKeysPlan,
  type GroupDiff,
  type GroupOptions,
  type FileStatus,
  type KeyListing,
  type ListedKey,
  type KeyMgmtOptions,
} from './keymgmt.js';
export { KeyGroupsError } from './errors.js';
