-- Prelude of every tier script. scripts.py puts in front of it the table K
-- of the shared keys and AGENT_KEY, the conversation set of the agent that
-- the operation names (nil when it names none).
--
-- ARGV[1] is the key prefix of per-agent conversation sets: the agent uid is
-- appended whole, so the key is unambiguous for any uid and keeps the hash
-- tag of the prefix. ARGV[2] is the caller's time, already formatted by
-- Python as a JSON number.
--
-- An agent is eligible when it is available and its load is below its
-- capacity. Eligible agents sit in K.elig and every online agent in K.tiers,
-- both scored by load.

local AGENT_KEY_BASE = ARGV[1]
local NOW = ARGV[2]

-- Reflected IEEE 802.3 polynomial, the one zlib.crc32 uses.
local CRC32_POLYNOMIAL = 0xEDB88320

-- Return the CRC32 of a byte string as a number in [0, 2^32).
-- LuaBitOp returns signed 32-bit results, hence the final correction.
local function crc32(text)
  local crc = bit.bnot(0)
  for i = 1, #text do
    crc = bit.bxor(crc, string.byte(text, i))
    for _ = 1, 8 do
      local low_bit = bit.band(crc, 1)
      crc = bit.rshift(crc, 1)
      if low_bit == 1 then
        crc = bit.bxor(crc, CRC32_POLYNOMIAL)
      end
    end
  end

  crc = bit.bnot(crc)
  if crc < 0 then
    crc = crc + 4294967296
  end
  return crc
end

local function agent_key(agent)
  return AGENT_KEY_BASE .. agent
end

local function is_online(agent)
  return redis.call('HEXISTS', K.capacity, agent) == 1
end

-- Built by hand because cjson keeps only 14 significant digits of a number,
-- which would round started_at.
local function encode_conversation(id, customer, agent)
  return '{"id":' .. cjson.encode(id)
    .. ',"customer":' .. cjson.encode(customer)
    .. ',"agent":' .. cjson.encode(agent)
    .. ',"started_at":' .. NOW .. '}'
end

-- Put the agent into K.tiers at its load, and into K.elig only if eligible.
local function refresh_agent(agent)
  local load = tonumber(redis.call('HGET', K.load, agent))
  local capacity = tonumber(redis.call('HGET', K.capacity, agent))
  local available = redis.call('HGET', K.available, agent) == '1'

  redis.call('ZADD', K.tiers, load, agent)
  if available and load < capacity then
    redis.call('ZADD', K.elig, load, agent)
  else
    redis.call('ZREM', K.elig, agent)
  end
end

-- Return the agent for the customer, or nil when nobody is eligible:
-- member k of the lowest tier p, with k = crc32(customer) mod (size of p).
-- Members of one tier are ordered by uid, so every worker picks the same one.
local function choose_agent(customer)
  local lowest = redis.call('ZRANGE', K.elig, 0, 0, 'WITHSCORES')
  if #lowest == 0 then
    return nil
  end

  local tier = lowest[2]
  local first = redis.call('ZCOUNT', K.elig, '-inf', '(' .. tier)
  local size = redis.call('ZCOUNT', K.elig, tier, tier)
  local rank = first + crc32(customer) % size
  return redis.call('ZRANGE', K.elig, rank, rank)[1]
end

-- Start a conversation and move the agent up one tier. Every path that
-- assigns comes through here. Returns the conversation JSON.
local function assign(customer, agent)
  local id = string.format('%d', redis.call('INCR', K.conversation_seq))
  local conversation = encode_conversation(id, customer, agent)

  redis.call('HSET', K.conversations, customer, conversation)
  redis.call('ZADD', agent_key(agent), id, customer)
  redis.call('HINCRBY', K.load, agent, 1)
  refresh_agent(agent)
  return conversation
end

-- Move an online agent down one tier. A no-op at load 0 or when offline.
local function release(agent)
  local load = tonumber(redis.call('HGET', K.load, agent))
  if not load or load <= 0 then
    return
  end

  redis.call('HINCRBY', K.load, agent, -1)
  refresh_agent(agent)
end

local function enqueue_at_tail(customer)
  local ticket = redis.call('INCR', K.queue_tail)
  redis.call('ZADD', K.queue, ticket, customer)
end

-- Put the customers before everybody already waiting, in the given order.
-- Head tickets count down, so a later batch goes before an earlier one.
local function enqueue_at_head(customers)
  local first = redis.call('DECRBY', K.queue_head, #customers)
  for i, customer in ipairs(customers) do
    redis.call('ZADD', K.queue, 'NX', first + i - 1, customer)
  end
end

-- Assign queued customers, head first, while an agent is eligible.
-- Each pass removes one customer, so the loop ends.
local function drain()
  local assigned = {}
  while redis.call('EXISTS', K.elig) == 1 do
    local head = redis.call('ZRANGE', K.queue, 0, 0)[1]
    if not head then
      break
    end

    redis.call('ZREM', K.queue, head)
    assigned[#assigned + 1] = assign(head, choose_agent(head))
  end
  return assigned
end

local function write_pointer()
  local lowest = redis.call('ZRANGE', K.elig, 0, 0, 'WITHSCORES')
  redis.call('SET', K.pointer, lowest[2] or 'full')
end

-- End of every script that changes state: drain the queue, then store the
-- pointer. Returns the drained conversations.
local function finish()
  local assigned = drain()
  write_pointer()
  return assigned
end
