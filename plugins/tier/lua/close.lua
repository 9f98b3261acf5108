-- End the customer's conversation, or take it out of the queue.
-- ARGV[3] customer, ARGV[4] the agent that must own the conversation, absent
-- or '' for any agent. With an agent given, a queued customer stays queued.
-- Returns {'not_in_conversation'} when the conversation belongs to another
-- agent (nothing changes), else {'ok', conversation JSON or nil,
-- left_queue 0/1, drained conversations}.

local customer = ARGV[3]
local expected_agent = ARGV[4] or ''

local conversation = redis.call('HGET', K.conversations, customer)
if conversation then
  local agent = cjson.decode(conversation).agent
  if expected_agent ~= '' and expected_agent ~= agent then
    return {'not_in_conversation'}
  end

  redis.call('HDEL', K.conversations, customer)
  redis.call('ZREM', agent_key(agent), customer)
  return {'ok', conversation, 0, finish_release(release(agent))}
end

local left_queue = 0
if expected_agent == '' then
  left_queue = redis.call('ZREM', K.queue, customer)
end
return {'ok', false, left_queue, finish()}
