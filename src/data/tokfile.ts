/**
 * Binary token files (Node): a tokenized split, written once and read back cheaply.
 *
 * Byte layout (little-endian), 64-byte header then the tokens:
 *
 *   offset size  field
 *    0      4    magic "BNTK" (0x42 0x4E 0x54 0x4B)
 *    4      4    u32 version = 1
 *    8      4    u32 bytes per token: 2 (uint16, when vocabSize ≤ 65536) or 4 (uint32)
 *   12      4    u32 vocabSize (every token id is < vocabSize)
 *   16      8    u64 token count N (two u32: low, high)
 *   24      8    u64 UTF-8 bytes of the source text (special tokens excluded), for bits per byte
 *   32      4    u32 number of documents
 *   36      4    i32 BOS id (-1: none)          each document is stored as  BOS, its tokens, EOS
 *   40      4    i32 EOS id (-1: none)
 *   44      4    u32 FNV-1a-32 checksum of header bytes [0, 44) ∪ [48, 64)
 *   48     16    first 16 bytes of the SHA-256 of the tokenizer.json (tokenizerHash)
 *   64   N·w    the tokens, uint16 or uint32
 *
 * Writes are atomic (temp file in the same directory, fsync, rename). A file whose header is short, has
 * the wrong magic/version/checksum, or whose size ≠ 64 + N·w raises FormatError.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ArgumentError } from '../errors.js';
import { FormatError } from './errors.js';

/** Size of the header in bytes. */
export const TOKFILE_HEADER_BYTES = 64;
const MAGIC = 0x4b544e42; // "BNTK" read as little-endian u32
const VERSION = 1;

/** The decoded header of a token file. */
export interface TokenFileHeader {
  version: number;
  bytesPerToken: 2 | 4;
  vocabSize: number;
  count: number;
  textBytes: number;
  numDocs: number;
  bosId: number;
  eosId: number;
  /** 32 hex chars: the first 16 bytes of the tokenizer hash. */
  tokenizerHash: string;
}

function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) { h ^= b[i]!; h = Math.imul(h, 0x01000193); }
  return h >>> 0;
}

function checksum(h: Uint8Array): number {
  const b = new Uint8Array(60);
  b.set(h.subarray(0, 44), 0);
  b.set(h.subarray(48, 64), 44);
  return fnv1a(b);
}

/** Encode a header to its 64 bytes. */
export function encodeHeader(h: Omit<TokenFileHeader, 'version'>): Uint8Array {
  const buf = new Uint8Array(TOKFILE_HEADER_BYTES);
  const v = new DataView(buf.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, VERSION, true);
  v.setUint32(8, h.bytesPerToken, true);
  v.setUint32(12, h.vocabSize, true);
  v.setUint32(16, h.count % 4294967296, true);
  v.setUint32(20, Math.floor(h.count / 4294967296), true);
  v.setUint32(24, h.textBytes % 4294967296, true);
  v.setUint32(28, Math.floor(h.textBytes / 4294967296), true);
  v.setUint32(32, h.numDocs, true);
  v.setInt32(36, h.bosId, true);
  v.setInt32(40, h.eosId, true);
  const hash = h.tokenizerHash.padEnd(32, '0');
  for (let i = 0; i < 16; i++) buf[48 + i] = parseInt(hash.slice(2 * i, 2 * i + 2), 16) || 0;
  v.setUint32(44, checksum(buf), true);
  return buf;
}

/** Decode and validate a header (FormatError on a short buffer, bad magic, version or checksum). */
export function decodeHeader(buf: Uint8Array, what = 'token file'): TokenFileHeader {
  if (buf.length < TOKFILE_HEADER_BYTES) throw new FormatError(`${what}: truncated header (${buf.length} of ${TOKFILE_HEADER_BYTES} bytes)`);
  const v = new DataView(buf.buffer, buf.byteOffset, TOKFILE_HEADER_BYTES);
  if (v.getUint32(0, true) !== MAGIC) throw new FormatError(`${what}: not a bitnet-ts token file (bad magic)`);
  const version = v.getUint32(4, true);
  if (version !== VERSION) throw new FormatError(`${what}: unsupported token file version ${version} (this build reads ${VERSION})`);
  if (v.getUint32(44, true) !== checksum(buf.subarray(0, TOKFILE_HEADER_BYTES))) throw new FormatError(`${what}: corrupt header (checksum mismatch)`);
  const bpt = v.getUint32(8, true);
  if (bpt !== 2 && bpt !== 4) throw new FormatError(`${what}: bad bytes per token ${bpt}`);
  let hash = '';
  for (let i = 48; i < 64; i++) hash += buf[i]!.toString(16).padStart(2, '0');
  return {
    version, bytesPerToken: bpt, vocabSize: v.getUint32(12, true),
    count: v.getUint32(16, true) + v.getUint32(20, true) * 4294967296,
    textBytes: v.getUint32(24, true) + v.getUint32(28, true) * 4294967296,
    numDocs: v.getUint32(32, true), bosId: v.getInt32(36, true), eosId: v.getInt32(40, true), tokenizerHash: hash,
  };
}

let tmpCounter = 0;
/**
 * Streaming, atomic token-file writer: `append` token chunks (checked < vocabSize), then `close()` writes
 * the header and renames the temp file into place. `abort()` removes the temp file.
 */
export class TokenFileWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private readonly bpt: 2 | 4;
  private count = 0;
  private done = false;
  textBytes = 0;
  numDocs = 0;

  constructor(readonly path: string, readonly vocabSize: number, readonly bosId: number, readonly eosId: number, readonly tokenizerHash: string) {
    if (!Number.isInteger(vocabSize) || vocabSize < 1 || vocabSize > 4294967296) throw new ArgumentError(`TokenFileWriter: bad vocabSize ${vocabSize}`);
    this.bpt = vocabSize <= 65536 ? 2 : 4;
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
    this.fd = openSync(this.tmp, 'w');
    writeSync(this.fd, new Uint8Array(TOKFILE_HEADER_BYTES), 0, TOKFILE_HEADER_BYTES, 0);
  }

  /** Append tokens. */
  append(ids: ArrayLike<number>): void {
    const arr = this.bpt === 2 ? new Uint16Array(ids.length) : new Uint32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i]!;
      if (!(t >= 0 && t < this.vocabSize) || !Number.isInteger(t)) { this.abort(); throw new ArgumentError(`TokenFileWriter: token ${t} outside [0, ${this.vocabSize})`); }
      arr[i] = t;
    }
    const bytes = new Uint8Array(arr.buffer);
    for (let off = 0; off < bytes.length;) off += writeSync(this.fd, bytes, off, bytes.length - off, TOKFILE_HEADER_BYTES + this.count * this.bpt + off);
    this.count += ids.length;
  }

  /** Write the header, fsync, rename into place; returns the header. */
  close(): TokenFileHeader {
    const h = { bytesPerToken: this.bpt, vocabSize: this.vocabSize, count: this.count, textBytes: this.textBytes, numDocs: this.numDocs, bosId: this.bosId, eosId: this.eosId, tokenizerHash: this.tokenizerHash.slice(0, 32) };
    writeSync(this.fd, encodeHeader(h), 0, TOKFILE_HEADER_BYTES, 0);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.done = true;
    renameSync(this.tmp, this.path);
    return { version: VERSION, ...h };
  }

  /** Discard the partial file. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    try { closeSync(this.fd); } catch { /* closed */ }
    try { unlinkSync(this.tmp); } catch { /* gone */ }
  }
}

/**
 * Random-access reader over a token file without loading it: `read(start, n, out, outOffset)` copies tokens
 * [start, start+n) into an Int32Array with one positioned read. Implements the sampler's TokenSource.
 */
export class TokenFileReader {
  readonly header: TokenFileHeader;
  readonly length: number;
  private fd: number;
  private scratch = new Uint8Array(0);

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    try {
      const hb = new Uint8Array(TOKFILE_HEADER_BYTES);
      const got = readSync(this.fd, hb, 0, TOKFILE_HEADER_BYTES, 0);
      this.header = decodeHeader(hb.subarray(0, got), path);
      const expect = TOKFILE_HEADER_BYTES + this.header.count * this.header.bytesPerToken;
      const size = fstatSync(this.fd).size;
      if (size !== expect) throw new FormatError(`${path}: truncated or padded token file (${size} bytes, header says ${expect})`);
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
    this.length = this.header.count;
  }

  /** Copy tokens [start, start + n) into out[outOffset…]. */
  read(start: number, n: number, out: Int32Array, outOffset = 0): void {
    if (start < 0 || n < 0 || start + n > this.length || outOffset + n > out.length) throw new ArgumentError(`TokenFileReader.read: range [${start}, ${start + n}) outside [0, ${this.length})`);
    const w = this.header.bytesPerToken, nb = n * w;
    if (this.scratch.length < nb) this.scratch = new Uint8Array(Math.max(nb, 4096));
    for (let off = 0; off < nb;) {
      const r = readSync(this.fd, this.scratch, off, nb - off, TOKFILE_HEADER_BYTES + start * w + off);
      if (r <= 0) throw new FormatError(`${this.path}: unexpected end of file`);
      off += r;
    }
    const v = new DataView(this.scratch.buffer, 0, nb);
    if (w === 2) for (let i = 0; i < n; i++) out[outOffset + i] = v.getUint16(2 * i, true);
    else for (let i = 0; i < n; i++) out[outOffset + i] = v.getUint32(4 * i, true);
  }

  /** Close the file descriptor. */
  close(): void { if (this.fd >= 0) { closeSync(this.fd); this.fd = -1; } }
}

/**
 * Read a whole token file into one typed array (Uint16Array or Uint32Array, native = little-endian order
 * assumed), refusing files larger than `maxBytes` (default 2 GiB; use TokenFileReader beyond). Every token
 * is checked < vocabSize (FormatError otherwise).
 */
export function readTokenFile(path: string, maxBytes = 2 ** 31): { header: TokenFileHeader; tokens: Uint16Array | Uint32Array } {
  const r = new TokenFileReader(path);
  try {
    const { header } = r;
    const nb = header.count * header.bytesPerToken;
    if (nb > maxBytes) throw new ArgumentError(`readTokenFile: ${path} holds ${nb} bytes of tokens, above the ${maxBytes}-byte bound; use TokenFileReader`);
    const buf = new Uint8Array(nb);
    const fd = openSync(path, 'r');
    try {
      for (let off = 0; off < nb;) {
        const got = readSync(fd, buf, off, nb - off, TOKFILE_HEADER_BYTES + off);
        if (got <= 0) throw new FormatError(`${path}: unexpected end of file`);
        off += got;
      }
    } finally { closeSync(fd); }
    const tokens = header.bytesPerToken === 2 ? new Uint16Array(buf.buffer, 0, header.count) : new Uint32Array(buf.buffer, 0, header.count);
    for (let i = 0; i < tokens.length; i++) if (tokens[i]! >= header.vocabSize) throw new FormatError(`${path}: token ${tokens[i]} at ${i} ≥ vocabSize ${header.vocabSize}`);
    return { header, tokens };
  } finally { r.close(); }
}
