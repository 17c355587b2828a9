// Per-stage batch figures scraped from a service's /metrics (services/platform/metrics.ts):
// how many batches it ran, their mean size and mean duration. Used by the alert-latency
// benchmark to say which stage holds a page up.

export interface StageBatches {
  batches: number;
  mean_size: number;
  mean_ms: number;
}

/** Sum of every sample of `name` (all label sets), or 0 when absent. */
function sum(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}

export async function stageBatches(url: string, bearer?: string): Promise<StageBatches | undefined> {
  try {
    const res = await fetch(url, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
    if (res.status !== 200) return undefined;
    const text = await res.text();
    const batches = sum(text, 'agenttrail_batch_duration_seconds_count');
    if (batches === 0) return { batches: 0, mean_size: 0, mean_ms: 0 };
    return {
      batches,
      mean_size: Math.round(
        sum(text, 'agenttrail_batch_size_sum') / sum(text, 'agenttrail_batch_size_count'),
      ),
      mean_ms: Math.round((sum(text, 'agenttrail_batch_duration_seconds_sum') / batches) * 1000 * 10) / 10,
    };
  } catch {
    return undefined;
  }
}
