-- Read an agent's conversation JSONs in start order. AGENT_KEY is its set.

local conversations = {}
for _, customer in ipairs(redis.call('ZRANGE', AGENT_KEY, 0, -1)) do
  local conversation = redis.call('HGET', K.conversations, customer)
  if conversation then
    conversations[#conversations + 1] = conversation
  end
end
return conversations
