'use strict';
// Load generator of bench/relay.py, on the npm socket.io-client package.
//
// stdin, line 1: the configuration (see bench/relay.py, run_generator).
// The generator connects every agent, then every customer, over WebSocket
// only and without permessage-deflate. With `consult` set, each customer
// sends `consult` and is paired with the agent that the ack names. It then writes
// {"event":"ready"} and waits for the line "go", so the driver can read the
// server's CPU time just before and just after the measured phase.
//
// Measured phase, `mode` "window": each pair sends `messages` messages,
// alternately customer to agent and agent to customer, with at most
// `window` of them unacknowledged at a time. Mode "rate": `rate` messages
// per second in total, spread round-robin over the pairs, for `duration`
// seconds, whatever the acknowledgements.
//
// Latency is measured from the emit to the `message` event at the peer,
// both in this process. The body starts with "<pair>.<index>." and is padded
// with "x" to `body_bytes` bytes. The result is one JSON line. The whole
// phase stops after `timeout_s` seconds even if messages are missing.

const { io } = require('socket.io-client');
const readline = require('readline');
const { performance } = require('perf_hooks');

const sockets = [];
let waitingForLine = null;
const queuedLines = [];

const input = readline.createInterface({ input: process.stdin });
input.on('line', (line) => {
  if (waitingForLine) {
    const resolve = waitingForLine;
    waitingForLine = null;
    resolve(line);
  } else {
    queuedLines.push(line);
  }
});
input.on('close', () => {
  if (waitingForLine) {
    waitingForLine(null);
  }
});

function nextLine() {
  if (queuedLines.length) {
    return Promise.resolve(queuedLines.shift());
  }
  return new Promise((resolve) => {
    waitingForLine = resolve;
  });
}

function write(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

function connect(url, auth, label) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      transports: ['websocket'],
      auth,
      reconnection: false,
      forceNew: true,
      timeout: 20000,
      perMessageDeflate: false,
    });
    socket.once('connect', () => {
      sockets.push(socket);
      resolve(socket);
    });
    socket.once('connect_error', (error) => {
      socket.close();
      reject(new Error(`connection of ${label} failed: ${error.message}`));
    });
  });
}

async function mapWithLimit(items, limit, work) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function call(socket, event, data) {
  return new Promise((resolve, reject) => {
    socket.timeout(20000).emit(event, data, (error, reply) => (error ? reject(error) : resolve(reply)));
  });
}

function summary(values) {
  const sorted = Float64Array.from(values).sort();
  const pick = (fraction) => (sorted.length ? sorted[Math.max(1, Math.ceil(fraction * sorted.length)) - 1] : null);
  let total = 0;
  for (const value of sorted) {
    total += value;
  }
  return {
    count: sorted.length,
    p50: pick(0.5),
    p95: pick(0.95),
    p99: pick(0.99),
    max: sorted.length ? sorted[sorted.length - 1] : null,
    mean: sorted.length ? total / sorted.length : null,
  };
}

// Returns the `count` largest latencies as {sent_ms, latency_ms}, where
// sent_ms is the send time from the start of the measured phase.
function slowest(latencies, sendTimes, count) {
  const order = latencies.map((_, index) => index).sort((a, b) => latencies[b] - latencies[a]);
  return order.slice(0, count).map((index) => ({ sent_ms: sendTimes[index], latency_ms: latencies[index] }));
}

// -- set-up ---------------------------------------------------------------

async function setUp(config) {
  const agentSockets = new Map();
  await mapWithLimit(config.agents, config.connect_concurrency, async (agent) => {
    agentSockets.set(agent.uid, await connect(config.url, agent.auth, agent.uid));
  });

  const pairs = await mapWithLimit(config.customers, config.connect_concurrency, async (customer) => {
    const socket = await connect(config.url, customer.auth, customer.uid);
    let agentUid = customer.agent;
    if (config.consult) {
      const reply = await call(socket, 'consult', {});
      if (!reply || !reply.ok || reply.status !== 'assigned') {
        throw new Error(`consult of ${customer.uid} was not assigned: ${JSON.stringify(reply)}`);
      }
      agentUid = reply.conversation.agent;
    }
    return { customerUid: customer.uid, customer: socket, agentUid, agent: agentSockets.get(agentUid) };
  });

  // Let the conversation start entries arrive before the measured phase.
  await new Promise((resolve) => setTimeout(resolve, config.settle_ms));
  return pairs;
}

// -- measured phase ---------------------------------------------------------

function measure(config, pairs) {
  const perPair = config.mode === 'rate' ? Math.ceil((config.rate * config.duration) / pairs.length) : config.messages;
  const total = config.mode === 'rate' ? Math.round(config.rate * config.duration) : perPair * pairs.length;
  const sentAt = new Float64Array(pairs.length * perPair).fill(-1);
  const received = new Uint8Array(pairs.length * perPair);
  const deliveryLatency = [];
  const deliveryTimes = [];
  const ackLatency = [];
  const sendLag = [];
  const padding = 'x'.repeat(config.body_bytes);
  const counts = { sent: 0, acked: 0, received: 0, errors: 0, unexpected: 0 };
  let firstError = null;
  let lastEventAt = 0;

  return new Promise((resolve) => {
    const cpuStart = process.cpuUsage();
    const startedAt = performance.now();
    lastEventAt = startedAt;
    let finished = false;

    function finish(timedOut) {
      if (finished) {
        return;
      }
      finished = true;
      clearTimeout(deadline);
      const cpu = process.cpuUsage(cpuStart);
      const elapsed = (lastEventAt - startedAt) / 1000;
      resolve({
        event: 'result',
        mode: config.mode,
        pairs: pairs.length,
        expected: total,
        ...counts,
        first_error: firstError,
        timed_out: timedOut,
        elapsed_s: elapsed,
        delivered_per_s: elapsed > 0 ? counts.received / elapsed : null,
        generator_cpu_s: (cpu.user + cpu.system) / 1e6,
        latency_ms: summary(deliveryLatency),
        ack_latency_ms: summary(ackLatency),
        send_lag_ms: config.mode === 'rate' ? summary(sendLag) : null,
        slowest: slowest(deliveryLatency, deliveryTimes, 10),
      });
    }

    const deadline = setTimeout(() => finish(true), config.timeout_s * 1000);

    // Done when every message is acknowledged and every one acknowledged
    // with success has reached its peer; a failed one is never relayed.
    function checkDone() {
      if (counts.acked === total && counts.received >= total - counts.errors) {
        finish(false);
      }
    }

    function onMessage(message) {
      const body = message && typeof message.body === 'string' ? message.body : '';
      const parts = body.split('.', 2);
      const slot = Number(parts[0]) * perPair + Number(parts[1]);
      if (parts.length < 2 || !(sentAt[slot] >= 0) || received[slot]) {
        counts.unexpected += 1;
        return;
      }
      const now = performance.now();
      received[slot] = 1;
      counts.received += 1;
      deliveryLatency.push(now - sentAt[slot]);
      deliveryTimes.push(sentAt[slot] - startedAt);
      lastEventAt = Math.max(lastEventAt, now);
      checkDone();
    }

    for (const pair of pairs) {
      pair.customer.on('message', onMessage);
      if (!pair.agent.listeners('message').includes(onMessage)) {
        pair.agent.on('message', onMessage);
      }
    }

    // Sends message `index` of pair `pairIndex`; `onAck` runs after the ack is counted.
    function sendOne(pairIndex, index, onAck) {
      const pair = pairs[pairIndex];
      const fromCustomer = index % 2 === 0;
      const sender = fromCustomer ? pair.customer : pair.agent;
      const recipient = fromCustomer ? pair.agentUid : pair.customerUid;
      const prefix = `${pairIndex}.${index}.`;
      const payload = {
        to: recipient,
        body: prefix + padding.slice(prefix.length),
        client_msg_id: `${fromCustomer ? 'c' : 'a'}${pairIndex}-${index}`,
      };
      const slot = pairIndex * perPair + index;
      const sentTime = performance.now();
      sentAt[slot] = sentTime;
      counts.sent += 1;
      sender.emit('message', payload, (reply) => {
        const now = performance.now();
        counts.acked += 1;
        ackLatency.push(now - sentTime);
        lastEventAt = Math.max(lastEventAt, now);
        if (!reply || reply.ok !== true) {
          counts.errors += 1;
          firstError = firstError || reply;
        }
        if (onAck) {
          onAck();
        }
        checkDone();
      });
    }

    if (config.mode === 'rate') {
      let next = 0;
      const interval = 1000 / config.rate;
      const tick = () => {
        if (finished) {
          return;
        }
        const now = performance.now();
        const due = Math.min(total, Math.floor((now - startedAt) / interval) + 1);
        while (next < due) {
          sendLag.push(performance.now() - (startedAt + next * interval));
          sendOne(next % pairs.length, Math.floor(next / pairs.length), null);
          next += 1;
        }
        if (next < total) {
          setTimeout(tick, 1);
        }
      };
      tick();
      return;
    }

    pairs.forEach((pair, pairIndex) => {
      const state = { next: 0, inFlight: 0 };
      const pump = () => {
        while (state.inFlight < config.window && state.next < perPair) {
          const index = state.next;
          state.next += 1;
          state.inFlight += 1;
          sendOne(pairIndex, index, () => {
            state.inFlight -= 1;
            pump();
          });
        }
      };
      pump();
    });
  });
}

async function main() {
  const config = JSON.parse(await nextLine());
  const pairs = await setUp(config);
  write({ event: 'ready', pairs: pairs.length, connections: sockets.length });

  const command = await nextLine();
  if (command !== null && command.trim() === 'go') {
    write(await measure(config, pairs));
  }
  for (const socket of sockets) {
    socket.close();
  }
  process.exit(0);
}

main().catch((error) => {
  write({ event: 'error', message: String(error && error.stack ? error.stack : error) });
  for (const socket of sockets) {
    socket.close();
  }
  process.exit(1);
});
