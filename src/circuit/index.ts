/**
 * What circuit files import. See builder.ts for the DSL and README.md for a tour.
 * @module
 */
export { circuit, ANALYST, Value, CircuitBuilder } from './builder.ts';
export type { CircuitDefinition, CircuitOptions, CircuitBody, Operand, PublicOperand, InputOptions, CompareOp } from './builder.ts';
export { FRAC_BITS } from './lib/fixed.ts';
export * as stats from './stats.ts';
