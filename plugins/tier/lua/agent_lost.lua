-- Take an agent out of the tiers, close its conversations and put their
-- customers at the queue head in start order. ARGV[3] agent; AGENT_KEY is
-- the agent's set. Returns {was_online 0/1, closed conversation JSONs,
-- requeued customers, drained conversations}. A second call changes nothing.

local agent = ARGV[3]
local was_online = is_online(agent) and 1 or 0

local closed = {}
local requeued = {}
for _, customer in ipairs(redis.call('ZRANGE', AGENT_KEY, 0, -1)) do
  local conversation = redis.call('HGET', K.conversations, customer)
  if conversation then
    redis.call('HDEL', K.conversations, customer)
    closed[#closed + 1] = conversation
    requeued[#requeued + 1] = customer
  end
end
redis.call('DEL', AGENT_KEY)

redis.call('HDEL', K.load, agent)
redis.call('HDEL', K.capacity, agent)
redis.call('HDEL', K.available, agent)
redis.call('ZREM', K.tiers, agent)
redis.call('ZREM', K.elig, agent)

if #requeued > 0 then
  enqueue_at_head(requeued)
end
return {was_online, closed, requeued, finish()}
