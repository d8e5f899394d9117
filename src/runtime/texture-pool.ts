/**
 * Pool of RGBA32F textures, reused by size class (see layout.ts sizeClass). Released textures wait in
 * the pool for reuse while the pool's bytes stay under its budget; beyond it the least recently
 * released are deleted for real. tfjs keeps every texture forever, which users report as a leak.
 */
import { sizeClass, textureDims } from './layout.js';
import { ContextError } from './errors.js';

export interface GpuTexture {
  readonly texture: WebGLTexture;
  readonly width: number;
  readonly height: number;
  /** Texel capacity (width · height ≥ the size class). */
  readonly capacity: number;
  readonly sizeClass: number;
  readonly bytes: number;
  /** Tensors that share this texture (reshapes share storage). */
  refs: number;
}

export interface PoolStats {
  /** Textures held by live tensors. */
  liveTextures: number;
  liveBytes: number;
  /** Released textures kept for reuse. */
  pooledTextures: number;
  pooledBytes: number;
}

export class TexturePool {
  private readonly free = new Map<number, GpuTexture[]>();
  /** Release order, oldest first, for eviction. */
  private readonly freeOrder: GpuTexture[] = [];
  private live = 0;
  private liveBytes = 0;
  private pooledBytes = 0;

  constructor(
    private readonly gl: WebGL2RenderingContext,
    private readonly maxTextureSize: number,
    /** Bytes of released textures kept for reuse. */
    public budgetBytes: number,
  ) {}

  acquire(texels: number): GpuTexture {
    const cls = sizeClass(Math.max(1, texels));
    const bucket = this.free.get(cls);
    let tex = bucket?.pop();
    if (tex) {
      this.freeOrder.splice(this.freeOrder.indexOf(tex), 1);
      this.pooledBytes -= tex.bytes;
    } else {
      tex = this.create(cls);
    }
    tex.refs = 1;
    this.live++;
    this.liveBytes += tex.bytes;
    return tex;
  }

  release(tex: GpuTexture): void {
    tex.refs--;
    if (tex.refs > 0) return;
    this.live--;
    this.liveBytes -= tex.bytes;
    let bucket = this.free.get(tex.sizeClass);
    if (!bucket) this.free.set(tex.sizeClass, (bucket = []));
    bucket.push(tex);
    this.freeOrder.push(tex);
    this.pooledBytes += tex.bytes;
    this.evict(this.budgetBytes);
  }

  /** Deletes pooled textures, oldest first, until the pool holds at most `keepBytes`. */
  evict(keepBytes: number): void {
    while (this.pooledBytes > keepBytes && this.freeOrder.length > 0) {
      const tex = this.freeOrder.shift()!;
      const bucket = this.free.get(tex.sizeClass)!;
      bucket.splice(bucket.indexOf(tex), 1);
      this.pooledBytes -= tex.bytes;
      this.gl.deleteTexture(tex.texture);
    }
  }

  stats(): PoolStats {
    return {
      liveTextures: this.live,
      liveBytes: this.liveBytes,
      pooledTextures: this.freeOrder.length,
      pooledBytes: this.pooledBytes,
    };
  }

  private create(cls: number): GpuTexture {
    const gl = this.gl;
    const { width, height } = textureDims(cls, this.maxTextureSize);
    const texture = gl.createTexture();
    if (!texture) throw new ContextError('gl.createTexture() failed (out of GPU memory or context lost)');
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA32F, width, height);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    gl.bindTexture(gl.TEXTURE_2D, null);
    return { texture, width, height, capacity: width * height, sizeClass: cls, bytes: width * height * 16, refs: 0 };
  }

  /** Deletes everything, live or pooled (used when the context is destroyed). */
  destroy(): void {
    this.evict(0);
  }
}
