import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { reservePorts } from '../setup/ports.ts';
import { useCleanup } from '../helpers/cleanup.ts';
import { startAlertmanager, startPrometheus } from '../helpers/monitoring.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * The shipped alert path end to end: real Prometheus scrapes a runner address nobody answers on,
 * StreamrunInstanceDown fires, real Alertmanager sends its Slack message to the webhook URL its
 * file names, and an HTTP server in the test stands where Slack's webhook would.
 */

interface Received {
  path: string;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

/** A webhook receiver on a free port that keeps every POST, answering 200 as Slack does. */
async function webhookReceiver(received: Received[]): Promise<Server> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (d: Buffer) => (body += d.toString()));
    request.on('end', () => {
      received.push({ path: request.url!, contentType: request.headers['content-type'], body: JSON.parse(body) as Record<string, unknown> });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('alert delivery', () => {
  const cleanup = useCleanup();

  it('StreamrunInstanceDown reaches the Slack webhook from the file, with its summary and description', async () => {
    const received: Received[] = [];
    const receiver = await webhookReceiver(received);
    cleanup.defer(() => new Promise((resolve) => receiver.close(resolve)));
    const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/services/T000/B000/secret`;
    const alertmanager = await startAlertmanager(webhook, cleanup);
    // Free, so nobody answers there: Prometheus' scrape fails and `up` is 0.
    const [deadPort] = await reservePorts(1);
    const target = `127.0.0.1:${deadPort}`;
    const prometheus = await startPrometheus(
      { targets: [target], alertmanager, rule: (r) => (r.alert === 'StreamrunInstanceDown' ? { ...r, for: '0s' } : r) },
      cleanup,
    );

    await waitFor('a message on the webhook', () => received.length > 0, { timeoutMs: 60_000 }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\nprometheus:\n${prometheus.output()}\nalertmanager:\n${alertmanager.output()}`);
    });
    const [message] = received;
    expect(message!.path).toBe('/services/T000/B000/secret');
    expect(message!.contentType).toBe('application/json');
    expect(message!.body['username']).toBe('Alertmanager');
    const attachments = message!.body['attachments'] as Record<string, unknown>[];
    expect(attachments.map((a) => [a['title'], a['text'], a['color']])).toEqual([
      [
        '[FIRING] StreamrunInstanceDown',
        `streamrun instance ${target} is down: Prometheus has not reached ${target}/metrics for a minute; the runner stopped, hangs or does not serve --port there.\n`,
        'danger',
      ],
    ]);
  });
});
