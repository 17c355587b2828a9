/** The detector's counters: reported by `stats()` and carried in its snapshot. */
export interface DetectorStats {
  events: number;
  alerts: number;
  duplicates: number;
  stale: number;
  conflicts: number;
  buffered: number;
  late: number;
  gaps: number;
  partialOverflow: number;
}

export function newStats(): DetectorStats {
  return {
    events: 0,
    alerts: 0,
    duplicates: 0,
    stale: 0,
    conflicts: 0,
    buffered: 0,
    late: 0,
    gaps: 0,
    partialOverflow: 0,
  };
}
