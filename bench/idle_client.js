'use strict';
// Idle connections for bench/connections.py, on the npm socket.io-client package.
//
// stdin, line 1: {"url", "auths": [auth objects], "concurrency"}. Each
// further line {"connect": n} opens connections until n are open, over
// WebSocket only and without permessage-deflate, at most `concurrency` at
// a time, then writes {"event":"connected","open":n,"failed":k,"dropped":d,
// "seconds":s}. `dropped` counts connections the server closed since the
// start. The connections then stay idle, apart from Socket.IO's pings.
// Closing stdin closes every connection and exits.

const { io } = require('socket.io-client');
const readline = require('readline');

const sockets = [];
let config = null;
let failed = 0;
let dropped = 0;
let firstFailure = null;

function write(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

function open(auth) {
  return new Promise((resolve) => {
    const socket = io(config.url, {
      transports: ['websocket'],
      auth,
      reconnection: false,
      forceNew: true,
      timeout: 30000,
      perMessageDeflate: false,
    });
    socket.once('connect', () => {
      sockets.push(socket);
      socket.on('disconnect', () => {
        dropped += 1;
      });
      resolve();
    });
    socket.once('connect_error', (error) => {
      failed += 1;
      firstFailure = firstFailure || error.message;
      socket.close();
      resolve();
    });
  });
}

async function connectUpTo(target) {
  const started = Date.now();
  let next = sockets.length + failed;
  const last = Math.min(target, config.auths.length);
  async function worker() {
    while (next < last) {
      const index = next++;
      await open(config.auths[index]);
    }
  }
  await Promise.all(Array.from({ length: config.concurrency }, worker));
  write({
    event: 'connected',
    open: sockets.length,
    failed,
    first_failure: firstFailure,
    dropped,
    seconds: (Date.now() - started) / 1000,
  });
}

let work = Promise.resolve();
const input = readline.createInterface({ input: process.stdin });
input.on('line', (line) => {
  work = work.then(async () => {
    const command = JSON.parse(line);
    if (config === null) {
      config = command;
    } else if (typeof command.connect === 'number') {
      await connectUpTo(command.connect);
    }
  }).catch((error) => {
    write({ event: 'error', message: String(error && error.stack ? error.stack : error) });
  });
});
input.on('close', () => {
  work.then(() => {
    for (const socket of sockets) {
      socket.close();
    }
    process.exit(0);
  });
});
