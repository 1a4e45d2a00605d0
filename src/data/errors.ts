// The data pipeline's typed errors live with the others in src/errors.ts.
export { DataError, FormatError } from '../errors.js';
