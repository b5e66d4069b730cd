/**
 * Campaign simulator: synthetic events with ground truth, for measuring detection quality
 * (issue 5). See README.md in this folder for the model and the parameter table.
 */
export { simulate } from './simulate';
export type { SimulateOptions, SimulateResult } from './simulate';
export { DEFAULTS, effectiveParams } from './params';
export type { EffectiveParams, SimParams } from './params';
