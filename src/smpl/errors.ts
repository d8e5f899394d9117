import { NbfError } from '../runtime/errors.js';

/**
 * A body model's content breaks an invariant (weights not summing to 1, a parent after its child,
 * an index out of range, NaN ...). The message names the source file and the offending key.
 */
export class BodyModelError extends NbfError {}
