-- Bring an agent online, or update the capacity of an online agent.
-- ARGV[3] agent, ARGV[4] capacity. KEYS: AGENT_KEY is the agent's set.
-- A new agent starts available, at the load of the conversations it still
-- has. An online agent keeps its availability and its conversations, even
-- above a reduced capacity. Returns the drained conversations.

local agent = ARGV[3]
local capacity = ARGV[4]

if not is_online(agent) then
  redis.call('HSET', K.load, agent, redis.call('ZCARD', AGENT_KEY))
  redis.call('HSET', K.available, agent, '1')
end
redis.call('HSET', K.capacity, agent, capacity)

refresh_agent(agent)
return finish()
