/** Contact sheets of pictures for the docs: each picture letterboxed into a square tile, tiles in rows. */
import type { RgbaImage } from '../src/io/image.js';
import { cropPicture, wholePictureRoi } from '../src/landmarks/roi.js';

/** The picture scaled into a size² square (letterboxed), via the landmark crop code. */
export function tile(image: RgbaImage, size: number): RgbaImage {
  const rgb = cropPicture(image, wholePictureRoi(image.width, image.height), size);
  const data = new Uint8Array(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) data[4 * i + c] = Math.round(rgb[3 * i + c] * 255);
    data[4 * i + 3] = 255;
  }
  return { width: size, height: size, data };
}

/** Rows of equal square tiles (size²) on white. */
export function sheet(rows: RgbaImage[][], size: number): RgbaImage {
  const cols = Math.max(...rows.map((r) => r.length));
  const width = cols * size;
  const height = rows.length * size;
  const data = new Uint8Array(width * height * 4).fill(255);
  rows.forEach((row, r) => row.forEach((t, c) => {
    for (let y = 0; y < size; y++) data.set(t.data.subarray(y * size * 4, (y + 1) * size * 4), ((r * size + y) * width + c * size) * 4);
  }));
  return { width, height, data };
}
