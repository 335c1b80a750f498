// The benchmark's Node.js peer: a WebSocket broadcast chat with Debian's
// node-ws, written the way its README shows. /ws?name=N joins; each text
// message is broadcast to every client as the same JSON pushq sends.
// usage: node server.mjs PORT
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { WebSocketServer, WebSocket } = require('/usr/share/nodejs/ws');

const port = Number(process.argv[2]);
const server = createServer((req, res) => { res.writeHead(404); res.end(); });
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });
let nextId = 1;

wss.on('connection', (socket, req) => {
  const name = new URL(req.url, 'http://x').searchParams.get('name') ?? '';
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const json = JSON.stringify({ status: true, msg: data.toString(), id: nextId++, from: name, dropped: 0 });
    for (const client of wss.clients)
      if (client.readyState === WebSocket.OPEN) client.send(json);
  });
});

server.listen(port, '127.0.0.1', () => console.log(`node ws peer listening on http://127.0.0.1:${port}/`));
process.on('SIGTERM', () => process.exit(0));
