/**
 * Wires the realtime layer onto an HTTP server: one hub per process, presence from
 * connections, the raw WebSocket and socket.io transports, and pruning of the event log
 * they replay from. close() before the bus and database close.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import type { Services } from '../services/index.js';
import type { EventBus } from '../events/bus.js';
import { Hub } from './hub.js';
import { PresenceTracker } from './presence.js';
import { RoomPresence } from './roomPresence.js';
import { WS_DEFAULTS, WsTransport, type WsTransportOptions } from './ws.js';
import { SocketIoTransport } from './socketio.js';
import { SOCKET_IO_PATH } from './protocol.js';

export interface Realtime {
  hub: Hub;
  presence: PresenceTracker;
  rooms: RoomPresence;
  ws: WsTransport;
  io: SocketIoTransport;
  close(): Promise<void>;
}

export function startRealtime(
  server: http.Server,
  {
    services,
    bus,
    logger,
    presence = new PresenceTracker(services.users, logger),
    rooms = new RoomPresence({ bus, users: services.users, logger }),
  }: { services: Services; bus: EventBus; logger: Logger; presence?: PresenceTracker; rooms?: RoomPresence },
  options: Partial<WsTransportOptions> = {},
): Realtime {
  const hub = new Hub(bus, services.users, logger, rooms);
  const claimedElsewhere = (pathname: string) => pathname.startsWith(`${SOCKET_IO_PATH}/`);
  const ws = new WsTransport(server, { hub, presence, services, bus, logger, claimedElsewhere }, options);
  const io = new SocketIoTransport(server, { hub, presence, services, bus, logger }, { ...WS_DEFAULTS, ...options });
  const { events } = services.deps;
  events.startPruning();
  return {
    hub,
    presence,
    rooms,
    ws,
    io,
    async close() {
      // Sockets first (their disconnects queue the offline writes and room departures), then those, then fan-out.
      await Promise.all([ws.close(), io.close()]);
      await Promise.all([presence.close(), rooms.close()]);
      await hub.close();
      await events.stopPruning();
    },
  };
}
