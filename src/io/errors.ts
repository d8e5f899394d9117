import { NbfError } from '../runtime/errors.js';

/**
 * A file could not be read: truncated, corrupt, an unsupported feature, or (pickles) an object we refuse
 * to construct. The message names the file and, where known, the key or byte offset.
 */
export class FileFormatError extends NbfError {}
