/**
 * Typed errors of the data pipeline (subclasses of BitnetError, so `instanceof BitnetError` catches them).
 */
import { BitnetError } from '../errors.js';

/** A corpus is missing, empty, or does not match its recorded split. The message says how to fix it. */
export class DataError extends BitnetError {}

/** A file (token file, tokenizer.json) is corrupt, truncated, or of an unknown format/version. */
export class FormatError extends BitnetError {}
