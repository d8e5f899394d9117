/** Errors raised by the runtime. Each names what was wrong so a user can act on it. */
export class NbfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The WebGL context could not be created or lacks a capability we need. */
export class ContextError extends NbfError {}

/** The WebGL context was lost; every tensor on it is gone. Create a new context. */
export class ContextLostError extends NbfError {}

/** A tensor's shape does not fit the operation. */
export class ShapeError extends NbfError {}

/** A GLSL kernel failed to compile or link. */
export class ShaderError extends NbfError {}

/** A tensor was used after dispose(). */
export class DisposedError extends NbfError {}
