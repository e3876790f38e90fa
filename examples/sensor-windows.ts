import { serdes, topology, tumbling } from 'streamrun';

interface Reading {
  sensorId: string;
  value: number;
  ts: number;
}

interface Totals {
  count: number;
  min: number;
  max: number;
  sum: number;
}

// Names from the environment, these by default: several copies can share a broker.
const env = (name: string, otherwise: string) => process.env[name] || otherwise;
export const topics = { input: env('INPUT_TOPIC', 'sensor-readings'), output: env('OUTPUT_TOPIC', 'sensor-stats') };

/**
 * Per sensor and 10-second window (by the readings' own `ts`, 5 s grace for stragglers): count,
 * min, max and average, written once per window to `sensor-stats` when the window closes.
 */
export default topology(env('APP_ID', 'sensor-windows'))
  .stream(topics.input, { key: serdes.string, value: serdes.json<Reading>() })
  .groupBy((reading) => reading.sensorId, { key: serdes.string })
  .windowedBy(tumbling(10_000).grace(5_000), { timestamp: (reading) => reading.ts })
  .aggregate<Totals>(
    () => ({ count: 0, min: 0, max: 0, sum: 0 }),
    (t, r) => ({
      count: t.count + 1,
      min: t.count === 0 ? r.value : Math.min(t.min, r.value),
      max: t.count === 0 ? r.value : Math.max(t.max, r.value),
      sum: t.sum + r.value,
    }),
    { name: 'sensor-totals', emit: 'final' },
  )
  .toStream()
  .map((t, window) => ({
    key: window.key,
    value: { sensorId: window.key, start: window.start, end: window.end, count: t.count, min: t.min, max: t.max, avg: t.sum / t.count },
  }))
  .to(topics.output, { key: serdes.string, value: serdes.json() });
