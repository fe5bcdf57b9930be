/**
 * Wires the realtime layer onto an HTTP server: one hub per process, presence from
 * connections, the raw WebSocket and socket.io transports, the watch on session revocations
 * made elsewhere, and pruning of the event log they replay from. close() before the bus and
 * database close.
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
import { SOCKET_IO_PATH } from '../schemas/protocol.js';
import { RevocationWatcher } from './revocationWatcher.js';
import type { SendLimiter } from '../services/sendLimit.js';

export interface Realtime {
  hub: Hub;
  presence: PresenceTracker;
  rooms: RoomPresence;
  ws: WsTransport;
  io: SocketIoTransport;
  close(): Promise<void>;
}

export interface RealtimeDeps {
  services: Services;
  bus: EventBus;
  logger: Logger;
  sendLimiter: SendLimiter;
  presence?: PresenceTracker;
  rooms?: RoomPresence;
}

/** Resolves once revocations are being watched; call before the server accepts connections. */
export async function startRealtime(
  server: http.Server,
  {
    services,
    bus,
    logger,
    sendLimiter,
    presence = new PresenceTracker(services.users, logger),
    rooms = new RoomPresence({ bus, users: services.users, logger }),
  }: RealtimeDeps,
  options: Partial<WsTransportOptions> = {},
): Promise<Realtime> {
  const { events } = services.deps;
  const hub = new Hub({ bus, users: services.users, log: events, logger, groupRooms: rooms });
  // Sessions revoked by another process (polled when no bus reaches us): close their sockets, forget their cached tokens.
  const revoke = (sessionId: string) => {
    services.tokens.forgetSessions([sessionId]);
    hub.revoke(sessionId);
  };
  const revocations = new RevocationWatcher(services.tokens.revocations, { revoke }, logger);
  await revocations.start();
  const claimedElsewhere = (pathname: string) => pathname.startsWith(`${SOCKET_IO_PATH}/`);
  const ws = new WsTransport(server, { hub, presence, services, bus, logger, sendLimiter, claimedElsewhere }, options);
  const io = new SocketIoTransport(server, { hub, presence, services, bus, logger, sendLimiter }, { ...WS_DEFAULTS, ...options });
  events.startPruning();
  return {
    hub,
    presence,
    rooms,
    ws,
    io,
    async close() {
      // Sockets first (their disconnects queue the offline writes and room departures), then those, then fan-out.
      await revocations.stop();
      await Promise.all([ws.close(), io.close()]);
      await Promise.all([presence.close(), rooms.close()]);
      await hub.close();
      await events.stopPruning();
    },
  };
}
