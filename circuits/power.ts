// y = x^(2^10) elementwise by ten sequential squarings: ten rounds whatever the length.
import { circuit } from '../src/circuit/index.ts';

export const SQUARINGS = 10;

export default circuit({ name: 'power', parties: ['p1'] }, (c) => {
  let y = c.vector('p1', 'x');
  for (let i = 0; i < SQUARINGS; i++) y = y.square();
  c.reveal('y', y);
});
