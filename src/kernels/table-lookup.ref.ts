/** Float64 CPU reference of tableLookup: table[round(x)] (halves round up), 0 outside the table. */
export function tableLookupRef(x: ArrayLike<number>, table: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => {
    const k = Math.floor(v + 0.5);
    return k >= 0 && k < table.length ? table[k] : 0;
  });
}
