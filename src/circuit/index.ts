/**
 * What circuit files import. See builder.ts for the DSL and README.md for a tour.
 * @module
 */
export { circuit, ANALYST, Value, CircuitBuilder } from './builder.ts';
export type { CircuitDefinition, CircuitOptions, CircuitBody, Operand, PublicOperand } from './builder.ts';
