/** A float32 tensor resident on the GPU in the channel-packed layout (see layout.ts). */
import type { Runtime } from './runtime.js';
import type { GpuTexture } from './texture-pool.js';
import { packedGeometry, type PackedGeometry } from './layout.js';
import { DisposedError } from './errors.js';

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly geometry: PackedGeometry;
  readonly dtype = 'float32' as const;
  private storage: GpuTexture | null;

  /** @internal Use runtime.tensor(), ops or runtime.run() to make tensors. */
  constructor(
    readonly runtime: Runtime,
    shape: readonly number[],
    storage: GpuTexture,
  ) {
    this.shape = Object.freeze([...shape]);
    this.geometry = packedGeometry(shape);
    this.storage = storage;
    runtime.track(this);
  }

  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return this.geometry.size;
  }
  get isDisposed(): boolean {
    return this.storage === null;
  }

  /** The texture holding the data; throws if the tensor was disposed. */
  get texture(): GpuTexture {
    if (!this.storage) throw new DisposedError(`tensor #${this.id} [${this.shape.join(', ')}] was used after dispose()`);
    return this.storage;
  }

  /** Frees the tensor's texture (back to the pool). Safe to call twice. */
  dispose(): void {
    const storage = this.storage;
    if (!storage) return;
    this.storage = null; // first: the runtime's dispose hooks may run code that sees this tensor
    this.runtime.releaseStorage(this, storage);
  }

  /** Downloads the data, row-major, after a fence so the caller's thread is not blocked. */
  read(): Promise<Float32Array> {
    return this.runtime.read(this);
  }

  /** Downloads the data, row-major, blocking until the GPU is done. */
  readSync(): Float32Array {
    return this.runtime.readSync(this);
  }

  toString(): string {
    return `Tensor#${this.id}[${this.shape.join(', ')}]`;
  }
}
