/**
 * `bitnet-ts/interp`: bilinear-layer interpretability (docs/data.md §3): the symmetric eigensolver, the
 * bilinear tensor view (interaction matrices, HOSVD, eigen-form), the classifier and its training, Boolean
 * toy tasks, analyses, the LM FFN decomposition and figures. Universal; the dataset loaders and experiment
 * runners (loadMnist, runMnistExperiment, …) are in `bitnet-ts/node`.
 */
export { symEig, type SymEig } from '../interp/eigen.js';
export { foldBiases, interactionMatrix, interactionFromCoeffs, hiddenCoeffs, bilinearForward, bilinearTensor, hosvd, effectiveRank, eigenForm, decomposeOutputs, projectThroughEmbedding, type BilinearWeights, type Hosvd } from '../interp/bilinear.js';
export { BilinearClassifier, type ClassifierConfig, type InterpQuant, type InterpArch } from '../interp/model.js';
export { fitClassifier, evaluateClassifier, splitDataset, type Dataset, type FitOptions } from '../interp/train.js';
export { decomposeClassifier, truncationCurve, truncatedLogits, seedConsistency, adversarialMasks, inputEigenvector, type ClassifierDecomposition } from '../interp/analysis.js';
export { trainToy, idealToyMatrix, toyBatch, type BoolOp, type ToyOptions } from '../interp/toy.js';
export { ffnBilinearWeights, decomposeForTokens, hosvdTokens } from '../interp/lm.js';
export { tileGrid, linePlotSvg, heatmapsSvg, type RgbImage } from '../interp/figures.js';
