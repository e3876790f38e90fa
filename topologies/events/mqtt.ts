import { validateEvent, type Event, type EventDefaults } from './event.ts';

/**
 * An MQTT message as an event. A JSON event object is taken as it is (its topic as the source
 * unless it names one); anything else is a reading: `sensors/kitchen/temperature` with `21.5C`
 * becomes type `temperature`, payload `"21.5C"`.
 */
export function eventFromMqtt(topic: string, payload: Buffer, defaults: EventDefaults): Event {
  const text = payload.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (typeof json === 'object' && json !== null && !Array.isArray(json) && 'type' in json) return validateEvent(json, defaults);
  const type = topic.split('/').filter((part) => part !== '').at(-1) ?? topic;
  return validateEvent({ type, payload: json ?? text }, defaults);
}
