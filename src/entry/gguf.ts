/**
 * `bitnet-ts/gguf`: the GGUF v3 container (validated reader, header writer, streamed chunks, metadata
 * value helpers) and the ggml block codecs (F16, BF16, Q8_0, TQ1_0, TQ2_0, I2_S). Universal (no `node:`
 * imports); reading and writing GGUF *models* (loadGguf, writeGguf) is in `bitnet-ts/node`.
 */
export { parseGguf, serializeGgufHeader, ggufChunks, ggufTensorBytes, bufferSource, metaNumber, metaString, metaArray, gv, type ByteSource, type GgufFile, type GgufTensorInfo, type GgufTensorSpec, type GgufValue } from '../io/gguf.js';
export { GGML_TYPES, ggmlType, encodeGgml, decodeGgml, decodeTernary, encodeTernaryTQ, floatToHalf, floatToBf16, bf16ToFloat, type GgmlType } from '../io/gguf_quant.js';
