-- Functions shared by the tier scripts. scripts.py puts in front of them the
-- table K of the shared keys and AGENT_KEY, the conversation set of the agent
-- that the operation names (nil when it names none). Each script gets only
-- the definitions below that it uses, and K holds only the keys they use.
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

-- The first crc32() call of a script run builds the table, so a run that
-- hashes nothing skips its 256-entry constructor.
local crc32_table

-- Return the CRC32 of a byte string as a number in [0, 2^32), one table
-- lookup per byte. LuaBitOp returns signed 32-bit results, so `% 256` picks
-- the low byte of a negative value too, and the end corrects the sign.
local function crc32(text)
  if not crc32_table then
    -- Entry n + 1 is the CRC32 remainder of the byte n under the reflected
    -- IEEE 802.3 polynomial 0xEDB88320, the one zlib.crc32 uses.
    crc32_table = {
      0x00000000, 0x77073096, 0xEE0E612C, 0x990951BA, 0x076DC419, 0x706AF48F, 0xE963A535, 0x9E6495A3,
      0x0EDB8832, 0x79DCB8A4, 0xE0D5E91E, 0x97D2D988, 0x09B64C2B, 0x7EB17CBD, 0xE7B82D07, 0x90BF1D91,
      0x1DB71064, 0x6AB020F2, 0xF3B97148, 0x84BE41DE, 0x1ADAD47D, 0x6DDDE4EB, 0xF4D4B551, 0x83D385C7,
      0x136C9856, 0x646BA8C0, 0xFD62F97A, 0x8A65C9EC, 0x14015C4F, 0x63066CD9, 0xFA0F3D63, 0x8D080DF5,
      0x3B6E20C8, 0x4C69105E, 0xD56041E4, 0xA2677172, 0x3C03E4D1, 0x4B04D447, 0xD20D85FD, 0xA50AB56B,
      0x35B5A8FA, 0x42B2986C, 0xDBBBC9D6, 0xACBCF940, 0x32D86CE3, 0x45DF5C75, 0xDCD60DCF, 0xABD13D59,
      0x26D930AC, 0x51DE003A, 0xC8D75180, 0xBFD06116, 0x21B4F4B5, 0x56B3C423, 0xCFBA9599, 0xB8BDA50F,
      0x2802B89E, 0x5F058808, 0xC60CD9B2, 0xB10BE924, 0x2F6F7C87, 0x58684C11, 0xC1611DAB, 0xB6662D3D,
      0x76DC4190, 0x01DB7106, 0x98D220BC, 0xEFD5102A, 0x71B18589, 0x06B6B51F, 0x9FBFE4A5, 0xE8B8D433,
      0x7807C9A2, 0x0F00F934, 0x9609A88E, 0xE10E9818, 0x7F6A0DBB, 0x086D3D2D, 0x91646C97, 0xE6635C01,
      0x6B6B51F4, 0x1C6C6162, 0x856530D8, 0xF262004E, 0x6C0695ED, 0x1B01A57B, 0x8208F4C1, 0xF50FC457,
      0x65B0D9C6, 0x12B7E950, 0x8BBEB8EA, 0xFCB9887C, 0x62DD1DDF, 0x15DA2D49, 0x8CD37CF3, 0xFBD44C65,
      0x4DB26158, 0x3AB551CE, 0xA3BC0074, 0xD4BB30E2, 0x4ADFA541, 0x3DD895D7, 0xA4D1C46D, 0xD3D6F4FB,
      0x4369E96A, 0x346ED9FC, 0xAD678846, 0xDA60B8D0, 0x44042D73, 0x33031DE5, 0xAA0A4C5F, 0xDD0D7CC9,
      0x5005713C, 0x270241AA, 0xBE0B1010, 0xC90C2086, 0x5768B525, 0x206F85B3, 0xB966D409, 0xCE61E49F,
      0x5EDEF90E, 0x29D9C998, 0xB0D09822, 0xC7D7A8B4, 0x59B33D17, 0x2EB40D81, 0xB7BD5C3B, 0xC0BA6CAD,
      0xEDB88320, 0x9ABFB3B6, 0x03B6E20C, 0x74B1D29A, 0xEAD54739, 0x9DD277AF, 0x04DB2615, 0x73DC1683,
      0xE3630B12, 0x94643B84, 0x0D6D6A3E, 0x7A6A5AA8, 0xE40ECF0B, 0x9309FF9D, 0x0A00AE27, 0x7D079EB1,
      0xF00F9344, 0x8708A3D2, 0x1E01F268, 0x6906C2FE, 0xF762575D, 0x806567CB, 0x196C3671, 0x6E6B06E7,
      0xFED41B76, 0x89D32BE0, 0x10DA7A5A, 0x67DD4ACC, 0xF9B9DF6F, 0x8EBEEFF9, 0x17B7BE43, 0x60B08ED5,
      0xD6D6A3E8, 0xA1D1937E, 0x38D8C2C4, 0x4FDFF252, 0xD1BB67F1, 0xA6BC5767, 0x3FB506DD, 0x48B2364B,
      0xD80D2BDA, 0xAF0A1B4C, 0x36034AF6, 0x41047A60, 0xDF60EFC3, 0xA867DF55, 0x316E8EEF, 0x4669BE79,
      0xCB61B38C, 0xBC66831A, 0x256FD2A0, 0x5268E236, 0xCC0C7795, 0xBB0B4703, 0x220216B9, 0x5505262F,
      0xC5BA3BBE, 0xB2BD0B28, 0x2BB45A92, 0x5CB36A04, 0xC2D7FFA7, 0xB5D0CF31, 0x2CD99E8B, 0x5BDEAE1D,
      0x9B64C2B0, 0xEC63F226, 0x756AA39C, 0x026D930A, 0x9C0906A9, 0xEB0E363F, 0x72076785, 0x05005713,
      0x95BF4A82, 0xE2B87A14, 0x7BB12BAE, 0x0CB61B38, 0x92D28E9B, 0xE5D5BE0D, 0x7CDCEFB7, 0x0BDBDF21,
      0x86D3D2D4, 0xF1D4E242, 0x68DDB3F8, 0x1FDA836E, 0x81BE16CD, 0xF6B9265B, 0x6FB077E1, 0x18B74777,
      0x88085AE6, 0xFF0F6A70, 0x66063BCA, 0x11010B5C, 0x8F659EFF, 0xF862AE69, 0x616BFFD3, 0x166CCF45,
      0xA00AE278, 0xD70DD2EE, 0x4E048354, 0x3903B3C2, 0xA7672661, 0xD06016F7, 0x4969474D, 0x3E6E77DB,
      0xAED16A4A, 0xD9D65ADC, 0x40DF0B66, 0x37D83BF0, 0xA9BCAE53, 0xDEBB9EC5, 0x47B2CF7F, 0x30B5FFE9,
      0xBDBDF21C, 0xCABAC28A, 0x53B39330, 0x24B4A3A6, 0xBAD03605, 0xCDD70693, 0x54DE5729, 0x23D967BF,
      0xB3667A2E, 0xC4614AB8, 0x5D681B02, 0x2A6F2B94, 0xB40BBE37, 0xC30C8EA1, 0x5A05DF1B, 0x2D02EF8D,
    }
  end
  local lookup, bxor, rshift, byte = crc32_table, bit.bxor, bit.rshift, string.byte

  local crc = -1
  for i = 1, #text do
    crc = bxor(rshift(crc, 8), lookup[bxor(crc, byte(text, i)) % 256 + 1])
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
-- redis.call turns a number argument into a string with %.14g on every
-- call, so the load is formatted once, as an integer.
local function place_agent(agent, load, eligible)
  local score = string.format('%d', load)
  redis.call('ZADD', K.tiers, score, agent)
  if eligible then
    redis.call('ZADD', K.elig, score, agent)
  else
    redis.call('ZREM', K.elig, agent)
  end
end

-- Place an online agent by the load, capacity and availability it has stored.
local function refresh_agent(agent)
  local load = tonumber(redis.call('HGET', K.load, agent))
  local capacity = tonumber(redis.call('HGET', K.capacity, agent))
  local available = redis.call('HGET', K.available, agent) == '1'
  place_agent(agent, load, available and load < capacity)
end

-- Return the lowest tier that contains an eligible agent, as the score
-- string that ZRANGE returns, or nil when no agent is eligible.
local function lowest_tier()
  return redis.call('ZRANGE', K.elig, 0, 0, 'WITHSCORES')[2]
end

-- Return the agent for a customer whose CRC32 is `hash`, and the size of
-- `tier`, the lowest tier: member k of the tier, with k = hash mod (size of
-- the tier). Members of one tier are ordered by uid, so every worker picks
-- the same one. No member scores below the lowest tier, so the tier's first
-- member has rank 0 in K.elig, and counting from -inf gives the tier's size.
-- Redis finds the start of that range at the skiplist's head, so only the
-- end of the range takes a search.
local function choose_agent(hash, tier)
  local size = redis.call('ZCOUNT', K.elig, '-inf', tier)
  local rank = string.format('%d', hash % size)
  return redis.call('ZRANGE', K.elig, rank, rank)[1], size
end

-- Start a conversation and move the agent up one tier. The agent comes
-- from K.elig, so it is available and only its capacity decides whether it
-- stays eligible. Returns the conversation JSON and its id.
local function assign(customer, agent)
  local id = string.format('%d', redis.call('INCR', K.conversation_seq))
  local conversation = encode_conversation(id, customer, agent)

  redis.call('HSET', K.conversations, customer, conversation)
  redis.call('ZADD', agent_key(agent), id, customer)
  local load = redis.call('HINCRBY', K.load, agent, '1')
  local capacity = tonumber(redis.call('HGET', K.capacity, agent))
  place_agent(agent, load, load < capacity)
  return conversation, id
end

-- Assign the customer, whose CRC32 is `hash`, to an agent of `tier`, the
-- lowest tier. Every path that assigns comes through here. Returns the
-- conversation JSON, the lowest tier afterwards (nil when no agent is
-- eligible any more), the conversation id and the agent.
local function assign_in_tier(customer, hash, tier)
  local agent, size = choose_agent(hash, tier)
  local conversation, id = assign(customer, agent)

  -- The agent left `tier`. While other members remain, `tier` is still the
  -- lowest, so only the departure of its last member needs a new lookup.
  if size == 1 then
    tier = lowest_tier()
  end
  return conversation, tier, id, agent
end

-- Move an online agent down one tier. A no-op at load 0 or when offline.
-- Returns the agent's new load when it is eligible afterwards, else nil,
-- and whether it was eligible before.
local function release(agent)
  -- K.tiers scores every online agent by its load, so ZADD XX INCR lowers
  -- the load there and returns it, or returns nil for an offline agent.
  local score = redis.call('ZADD', K.tiers, 'XX', 'INCR', '-1', agent)
  if not score then
    return nil, false
  end
  local load = tonumber(score)
  if load < 0 then
    -- The agent was at load 0: undo the decrement, so nothing changes.
    redis.call('ZADD', K.tiers, '0', agent)
    return nil, false
  end
  redis.call('HINCRBY', K.load, agent, '-1')

  -- An agent in K.elig was eligible at the higher load, so it stays
  -- eligible, and ZADD XX moves it down. Only an agent outside K.elig
  -- needs its capacity and availability read.
  if redis.call('ZADD', K.elig, 'XX', 'CH', score, agent) == 1 then
    return load, true
  end

  local capacity = tonumber(redis.call('HGET', K.capacity, agent))
  local available = redis.call('HGET', K.available, agent) == '1'
  if available and load < capacity then
    redis.call('ZADD', K.elig, score, agent)
    return load, false
  end
  return nil, false
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

-- Store the pointer: `tier`, the lowest tier, or 'full' for nil.
local function write_pointer(tier)
  redis.call('SET', K.pointer, tier or 'full')
end

-- End of every script that changes state: assign queued customers, head
-- first, while an agent is eligible, then store the pointer. Each pass
-- removes one customer, so the loop ends. Returns the drained conversations.
local function finish()
  local assigned = {}
  local tier = lowest_tier()
  while tier do
    local head = redis.call('ZRANGE', K.queue, 0, 0)[1]
    if not head then
      break
    end

    redis.call('ZREM', K.queue, head)
    local conversation
    conversation, tier = assign_in_tier(head, crc32(head), tier)
    assigned[#assigned + 1] = conversation
  end

  write_pointer(tier)
  return assigned
end

-- End of a script whose only change to the tiers was release(), which
-- returned `tier` and `was_eligible`. No customer waits while an agent is
-- eligible, so after the release of an agent that was eligible the queue is
-- empty. Every script that changes state ends with K.pointer at the lowest
-- tier, so with an empty queue it is enough to drop the pointer to `tier`
-- if that is lower. A missing pointer or a waiting customer takes the full
-- finish(). Returns the drained conversations.
local function finish_release(tier, was_eligible)
  local pointer = redis.call('GET', K.pointer)
  if not pointer or (not was_eligible and redis.call('EXISTS', K.queue) == 1) then
    return finish()
  end

  if tier and (pointer == 'full' or tier < tonumber(pointer)) then
    write_pointer(tier)
  end
  return {}
end
