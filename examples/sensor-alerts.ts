import { serdes, topology } from 'streamrun';

interface Reading {
  sensorId: string;
  celsius: number;
  ts: number;
}

const app = topology('sensor-alerts');

const readings = app
  .stream('temperatures', { key: serdes.string, value: serdes.json<Reading>() })
  .filter((r) => Number.isFinite(r.celsius), { name: 'valid-readings' })
  .map((r) => ({ key: r.sensorId, value: { ...r, fahrenheit: r.celsius * 1.8 + 32 } }));

const { hot, cold } = readings.branch({
  hot: (r) => r.celsius >= 30,
  cold: (r) => r.celsius <= 0,
});

hot.mapValues((r) => `${r.sensorId} is hot: ${r.celsius} °C`).to('sensor-alerts', { key: serdes.string, value: serdes.string });
cold.mapValues((r) => `${r.sensorId} is freezing: ${r.celsius} °C`).to('sensor-alerts', { key: serdes.string, value: serdes.string });
readings.to('temperatures-f', { key: serdes.string, value: serdes.json() });

export default app;
