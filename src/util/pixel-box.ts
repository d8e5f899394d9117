/**
 * The bounding box [x0, y0, x1, y1) (x1, y1 exclusive) of the pixels of a width × height picture for
 * which `inside(i)` holds, i = y·width + x, and how many they are; box null when there are none.
 */
export function pixelBox(width: number, height: number, inside: (i: number) => boolean): { box: [number, number, number, number] | null; count: number } {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!inside(y * width + x)) continue;
      count++;
      if (x < x0) x0 = x;
      if (x >= x1) x1 = x + 1;
      if (y < y0) y0 = y;
      if (y >= y1) y1 = y + 1;
    }
  }
  return { box: count ? [x0, y0, x1, y1] : null, count };
}
