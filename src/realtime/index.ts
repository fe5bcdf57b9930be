/**
 * Wires the realtime layer onto an HTTP server: one hub per process, presence from
 * connections, and the raw WebSocket transport. close() before the bus and database close.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { Services } from '../services/index.js';
import type { EventBus } from '../events/bus.js';
import { Hub } from './hub.js';
import { PresenceTracker } from './presence.js';
import { WsTransport, type WsTransportOptions } from './ws.js';

export interface Realtime {
  hub: Hub;
  presence: PresenceTracker;
  ws: WsTransport;
  close(): Promise<void>;
}

export function startRealtime(
  server: http.Server,
  { services, bus, logger }: { services: Services; bus: EventBus; logger: Logger },
  options: Partial<WsTransportOptions> = {},
): Realtime {
  const hub = new Hub(bus, services.users, logger);
  const presence = new PresenceTracker(services.users, logger);
  const ws = new WsTransport(server, { hub, presence, services, bus, logger }, options);
  return {
    hub,
    presence,
    ws,
    async close() {
      // Sockets first (their disconnects queue the offline writes), then those writes, then fan-out.
      await ws.close();
      await presence.close();
      await hub.close();
    },
  };
}
