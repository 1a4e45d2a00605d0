/**
 * `bitnet-ts/internals`: the building blocks under the public API, for tests, tools and experiments.
 * No stability promise: names here may change with the implementation. Universal (no `node:` imports).
 */
// kernels: the WASM context, the reference kernels (the definitions), round-half-even
export { WasmContext } from '../kernels/wasm/context.js';
export * as refKernels from '../kernels/ref/index.js';
export { roundHalfEven } from '../tensor/round.js';
// BitLinear's pieces (shared inputs q/k/v, gate/up) and the quantization tables' details
export { QuantInput, QuantWeight, linearForward, linearBackward, fakeQuantWeightRef, type InputSpec } from '../nn/bitlinear.js';
export { WEIGHT_QUANTS, ACT_QUANTS, ACT_CODES, LINEAR_SITES, packedFormat, siteKernel, bitLinearRule, findVariant, variantKey, usesHadamard, actBits, type WeightQuant, type ActQuant, type ActCodes, type InputRule, type PreTransform } from '../quant/modes.js';
// packed formats: pack/unpack, repack of stored codes
export { packI2, unpackI2, packI2R4, packI2R4Rows, unpackI2R4, packI1p6, unpackI1p6, packB1, unpackB1, rowBytesI2, rowBytesI1p6, rowBytesB1, bytesI2R4, I2_BLOCK, I1P6_BLOCK, B1_BLOCK, BLOCK_BYTES, ROW_GROUP } from '../quant/pack.js';
export { i2RowsToI2R4, tq2ToI2R4, tq1ToI2R4, i2sToI2R4, hfToI2R4 } from '../quant/repack.js';
// the engine: memory layout, 7-bit head rows
export { modelLayout, layoutBytes, type ModelLayout, type LayoutOptions, type LinearSpec, type InputPrep } from '../infer/layout.js';
export { quantizeRowsI7 } from '../infer/packed_model.js';
// files: safetensors, HF packed ternary + weight_scale rule, version-1 model files
export { parseSafetensors, serializeHeader, toFloat32, type StTensor, type StDType } from '../io/safetensors.js';
export { packHfTernary, unpackHfTernary, betaFromWeightScale, weightScaleFromBeta, type HfLinearClass } from '../interop/hf_pack.js';
export { modelFileContentsV1, sourceFromModelFile } from '../infer/model_file.js';
