-- End the customer's conversation, or take it out of the queue.
-- ARGV[3] customer, ARGV[4] the agent that must own the conversation, absent
-- or '' for any agent. With an agent given, a queued customer stays queued.
-- Returns {'not_in_conversation'} when the conversation belongs to another
-- agent (nothing changes), else {'ok', conversation JSON or nil,
-- left_queue 0/1, drained conversations}. A conversation in the form that
-- encode_conversation() writes comes back as nil, followed by its id, agent
-- and started_at text: the caller knows the customer, and skips decoding
-- the JSON.

local customer = ARGV[3]
local expected_agent = ARGV[4] or ''

local conversation = redis.call('HGET', K.conversations, customer)
if conversation then
  -- A JSON string cannot contain an unescaped quote, so ',"agent":' and
  -- ',"started_at":' only match the field names that encode_conversation()
  -- writes. Any other form takes the full decode.
  local id, agent_json, started_at =
    string.match(conversation, '^{"id":"(%d+)",.-,"agent":(".*"),"started_at":([^,}]+)}$')
  local agent
  if not id then
    agent = cjson.decode(conversation).agent
  elseif string.find(agent_json, '\\', 1, true) then
    agent = cjson.decode(agent_json)
  else
    agent = string.sub(agent_json, 2, -2)
  end

  if expected_agent ~= '' and expected_agent ~= agent then
    return {'not_in_conversation'}
  end

  redis.call('HDEL', K.conversations, customer)
  redis.call('ZREM', agent_key(agent), customer)
  local assigned = finish_release(release(agent))
  if id then
    return {'ok', false, 0, assigned, id, agent, started_at}
  end
  return {'ok', conversation, 0, assigned}
end

local left_queue = 0
if expected_agent == '' then
  left_queue = redis.call('ZREM', K.queue, customer)
end
return {'ok', false, left_queue, finish()}
