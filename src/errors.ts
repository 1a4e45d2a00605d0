/**
 * Typed errors. Every failure a user can cause (bad shapes, wrong dtypes, bad
 * arguments, corrupt files) raises one of these with an actionable message,
 * never a bare Error or a silent NaN.
 */

/** Base class: `instanceof BitnetError` catches everything this library throws on purpose. */
export class BitnetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor/array has the wrong shape or length for the operation. */
export class ShapeError extends BitnetError {}

/** A tensor/array has the wrong element type (e.g. Float64Array where Int8Array is required). */
export class DTypeError extends BitnetError {}

/** A scalar argument is out of its valid range (negative size, non power-of-two, bad option). */
export class ArgumentError extends BitnetError {}

/** A requested backend/feature is not available in this runtime. */
export class BackendError extends BitnetError {}

/** A numerical problem was detected (NaN/Inf) where the caller asked to be told. */
export class NumericsError extends BitnetError {}

/** A corpus is missing, empty, or does not match its recorded split. The message says how to fix it. */
export class DataError extends BitnetError {}

/** A file (model, checkpoint, token file, tokenizer.json) is corrupt, truncated, or of an unknown format/version. */
export class FormatError extends BitnetError {}
