/**
 * The Pareto front of a size-vs-loss plot: the variants no other variant beats on both (smaller or equal size AND
 * lower or equal loss, strictly better on one). Those are the only sensible choices; everything else is dominated.
 */

export interface ParetoPoint {
  /** Cost to minimise (file size). */
  readonly cost: number;
  /** Loss to minimise (KLD or ΔPPL). */
  readonly loss: number;
}

/** Indices of the points on the front, by ascending cost. Points with a non-finite coordinate are never on it. */
export function paretoFrontIndices(points: readonly ParetoPoint[]): number[] {
  const finite = points
    .map((point, index) => ({ point, index }))
    .filter(({ point }) => Number.isFinite(point.cost) && Number.isFinite(point.loss));
  // Sweep by cost (ties: lower loss first); a point is on the front when its loss is below every cheaper point's.
  finite.sort((a, b) => a.point.cost - b.point.cost || a.point.loss - b.point.loss);
  const front: number[] = [];
  let bestLoss = Number.POSITIVE_INFINITY;
  let lastFront: ParetoPoint | undefined;
  for (const { point, index } of finite) {
    if (point.loss < bestLoss) {
      front.push(index);
      bestLoss = point.loss;
      lastFront = point;
    } else if (point.loss === lastFront?.loss && point.cost === lastFront.cost) {
      // An exact duplicate of a front point is not dominated either.
      front.push(index);
    }
  }
  return front;
}
