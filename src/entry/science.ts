/**
 * `bitnet-ts/science`: the energy model (docs/spec.md §1.4), post-training quantization (absmax, absmean,
 * sign, SmoothQuant, RTN, GPTQ, QuIP; docs/spec.md §1.6) and the scaling-law fit. Universal; the
 * experiment runners that write reports (runPtqTable, runLrStability, runScaling) are in `bitnet-ts/node`.
 */
export { matmulEnergyPerToken, weightBytes, formatEnergyPerToken, formatWeightBytes, trainedFormat, FP16_FORMAT, OP_ENERGY_PJ, type MatmulFormat, type EnergyOptions } from '../science/energy.js';
export { PTQ_METHODS, DEFAULT_PTQ, quantizeModel, ptqFormat, actQuantHook, type PtqSpec, type PtqOptions, type CalibBatch } from '../science/ptq.js';
export { gptqQuantize, rtnMinMax, HessianAccumulator } from '../science/gptq.js';
export { quipQuantize, randomRotation } from '../science/quip.js';
export { smoothModel, smoothScales } from '../science/smoothquant.js';
export { fitScalingLaw, predictScaling, type ScalingFit } from '../science/scaling.js';
